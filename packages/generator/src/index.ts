// Public entry of @ggen/generator: templates (YAML frontmatter + Handlebars) rendered from vars and RDF
// graphs into files, planned and checked before anything is written.
export type { ApplyResult } from "./apply.js";
export { applyPlan } from "./apply.js";
export type { FileResult, GenerateOptions, GenerateResult, HookResult, OrphanResult } from "./engine.js";
export { generate, mergeOf, redact } from "./engine.js";
export { splitTemplate } from "./frontmatter.js";
export { helperNames } from "./hbs.js";
export { localName, seededUuid, sqlType, TermValue, tsType } from "./helpers.js";
export type { GraphDiff, Impact } from "./impact.js";
export { diffGraphs, impactOf } from "./impact.js";
export type { InjectOptions, InjectResult } from "./inject.js";
export { inject } from "./inject.js";
export type { InspectResult } from "./inspect.js";
export { inspectTemplate, validateVarsFile } from "./inspect.js";
export type { MergeOutcome, RegionNote } from "./merge.js";
export { mergeLines, regenerate } from "./merge.js";
export type { PackTemplates } from "./packs.js";
export { trustedPacks } from "./packs.js";
export type { ParsedRegions, Region } from "./regions.js";
export { parseRegions } from "./regions.js";
export type { ListedTemplate } from "./resolve.js";
export { listTemplates } from "./resolve.js";
export { camelCase, constantCase, kebabCase, pascalCase, snakeCase, titleCase } from "./text/cases.js";
export { pluralize, singularize } from "./text/inflect.js";
export type { VarDecl, VarType } from "./vars.js";
export { checkVars, loadVarsFile } from "./vars.js";
