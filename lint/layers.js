// The layer rule: every source file belongs to one layer (a folder under src/), and each layer
// lists what it may import — other layers, npm packages, Node built-ins. Anything not listed is
// refused, so a new dependency of a layer is a decision written here, not an accident.
import { builtinModules } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';

const builtins = new Set(builtinModules);

/** 'node:fs/promises' → true; 'zod/v4' → false. */
function isNodeBuiltin(spec) {
  if (spec.startsWith('node:')) return true;
  return builtins.has(spec.split('/')[0]);
}

/** 'zod/v4' → 'zod'; '@electron/fuses/x' → '@electron/fuses'. */
function packageOf(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * The most specific layer holding `path` (relative to the source root, '/'-separated): a layer is
 * a folder, or a single module named without its extension (main/desktopPolicy).
 */
function layerOf(path, names) {
  const module = path.replace(/\.[^/.]+$/, '');
  let best = null;
  for (const name of names) {
    if ((module === name || path.startsWith(`${name}/`)) && (best === null || name.length > best.length)) best = name;
  }
  return best;
}

function describe(layer) {
  const parts = [];
  if (layer.layers.length > 0) parts.push(`src/${layer.layers.join(', src/')}`);
  if (layer.packages.length > 0) parts.push(layer.packages.join(', '));
  if (layer.node) parts.push('Node built-ins');
  return parts.join('; ');
}

/** @type {import('eslint').Rule.RuleModule} */
export const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'each layer imports only what its allowlist names (ARCHITECTURE.md "Layers")' },
    schema: [
      {
        type: 'object',
        properties: { root: { type: 'string' }, layers: { type: 'object' } },
        required: ['root', 'layers'],
        additionalProperties: false,
      },
    ],
  },
  create(context) {
    const { root, layers } = context.options[0];
    const names = Object.keys(layers);
    const sourceRoot = resolve(context.cwd, root);
    const file = context.filename;
    const path = relative(sourceRoot, file).split(sep).join('/');
    if (path.startsWith('..')) return {};
    const own = layerOf(path, names);
    if (own === null) {
      // A file in no layer would escape every rule: it must be placed in one first.
      return { Program: (node) => context.report({ node, message: `src/${path} belongs to no layer: add its folder to the layer table in eslint.config.js` }) };
    }
    const rules = layers[own];
    const allowedLayers = new Set([own, ...rules.layers]);

    function check(node, spec) {
      if (typeof spec !== 'string') return;
      let refusal = null;
      if (spec.startsWith('.')) {
        const target = relative(sourceRoot, resolve(dirname(file), spec)).split(sep).join('/');
        const layer = target.startsWith('..') ? null : layerOf(target, names);
        if (layer === null) refusal = `${spec} is outside every layer of src/`;
        else if (!allowedLayers.has(layer)) refusal = `src/${own} may not import src/${layer} (${spec})`;
      } else if (isNodeBuiltin(spec)) {
        if (!rules.node) refusal = `src/${own} runs without Node: no Node built-in (${spec})`;
      } else if (!rules.packages.includes(packageOf(spec))) {
        refusal = `src/${own} may not import the package ${packageOf(spec)}`;
      }
      if (refusal) context.report({ node, message: `${refusal}; src/${own} may import ${describe(rules) || 'only itself'}. ${rules.why}` });
    }

    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
      TSImportEqualsDeclaration: (node) =>
        node.moduleReference.type === 'TSExternalModuleReference' && check(node.moduleReference.expression, node.moduleReference.expression.value),
    };
  },
};
