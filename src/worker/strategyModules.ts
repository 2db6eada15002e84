import { delimiter } from 'node:path';
import { pathToFileURL } from 'node:url';
import { registerStrategy, type RegisteredDefinition } from '../core/strategy/registry.js';
import type { TradingParams } from '../shared/strategyConfig.js';

/**
 * Strategies from outside src: KESTREL_STRATEGY_MODULES lists module paths (separated by the
 * platform's path delimiter, `:` or `;`), each default-exporting a strategy definition with
 * its zod params schema. The worker registers them before it reads its launch config, so a
 * variant may name them. Tests use it to run a strategy defined only in the tests through the
 * real worker process.
 */
export const STRATEGY_MODULES_ENV = 'KESTREL_STRATEGY_MODULES';

export async function loadStrategyModules(list: string | undefined): Promise<string[]> {
  if (list === undefined || list.trim() === '') return [];
  const names: string[] = [];
  for (const path of list.split(delimiter).filter((p) => p.length > 0)) {
    const mod = (await import(pathToFileURL(path).href)) as { default?: RegisteredDefinition<TradingParams> };
    const def = mod.default;
    if (def === undefined || typeof def.name !== 'string') throw new Error(`${STRATEGY_MODULES_ENV}: ${path} does not default-export a strategy definition`);
    registerStrategy(def);
    names.push(def.name);
  }
  return names;
}
