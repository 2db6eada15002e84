#!/usr/bin/env node
// Packaging step: flips the Electron fuses of a packaged Kestrel binary to DESKTOP_FUSES
// (src/main/desktopPolicy.ts). Run after the packager has copied Electron, before signing:
//   node --import tsx scripts/flip-fuses.ts <path to the packaged Electron binary or .app>
import { FuseV1Options, FuseVersion, flipFuses, getCurrentFuseWire, type FuseV1Config } from '@electron/fuses';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DESKTOP_FUSES } from '../src/main/desktopPolicy.js';

/** DESKTOP_FUSES in @electron/fuses' terms; every fuse it names must exist in this version of the library. */
export function desktopFuseConfig(platform: NodeJS.Platform = process.platform): FuseV1Config {
  const config: FuseV1Config = { version: FuseVersion.V1, resetAdHocDarwinSignature: platform === 'darwin' };
  for (const [name, on] of Object.entries(DESKTOP_FUSES)) {
    const option = FuseV1Options[name as keyof typeof FuseV1Options] as FuseV1Options | undefined;
    if (option === undefined) throw new Error(`@electron/fuses has no fuse named ${name}`);
    config[option] = on;
  }
  return config;
}

/** Flips the fuses, then reads them back: a binary left unchanged is an error, not a warning. */
export async function flipDesktopFuses(binary: string, platform: NodeJS.Platform = process.platform): Promise<Record<string, boolean>> {
  await flipFuses(binary, desktopFuseConfig(platform));
  const wire = await getCurrentFuseWire(binary);
  const result: Record<string, boolean> = {};
  for (const [name, on] of Object.entries(DESKTOP_FUSES)) {
    const option = FuseV1Options[name as keyof typeof FuseV1Options];
    // The wire holds the ASCII digits '0' / '1' (48 / 49); 'r' (114) marks a fuse removed from this Electron.
    const state = wire[option];
    if (state !== 48 && state !== 49) throw new Error(`${binary}: fuse ${name} cannot be set (state ${String(state)})`);
    result[name] = state === 49;
    if (result[name] !== on) throw new Error(`${binary}: fuse ${name} is ${String(result[name])} after flipping, expected ${String(on)}`);
  }
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const binary = process.argv[2];
  if (!binary || process.argv.length > 3) {
    process.stderr.write('usage: node --import tsx scripts/flip-fuses.ts <path to the packaged Electron binary or .app>\n');
    process.exit(2);
  }
  flipDesktopFuses(binary).then(
    (fuses) => process.stdout.write(`${binary}: ${Object.entries(fuses).map(([k, v]) => `${k}=${v ? 'on' : 'off'}`).join(', ')}\n`),
    (err: unknown) => {
      process.stderr.write(`flip-fuses: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
