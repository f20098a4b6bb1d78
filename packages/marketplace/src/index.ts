// Public entry of @ggen/marketplace: registries, search, install with lockfile and checksums.

// The project's one sha256, re-exported for the packs' consumers that compare checksums.
export { sha256 } from "@ggen/support";
export type { ArchiveEntry, ExtractLimits } from "./archive.js";
export { archiveContents, DEFAULT_LIMITS, extractSafe, treeHash, writeTarGz } from "./archive.js";
export type { InstallChange, InstallOptions, InstallResult, VerifyEntry } from "./install.js";
export { addPacks, parseSpec, removePacks, updatePacks, verifyPacks } from "./install.js";
export type { MarketLimits } from "./limits.js";
export { DEFAULT_MARKET_LIMITS, describeLimit, LIMITS } from "./limits.js";
export { LOCK_FILE, parseLock, readLock, serializeLock } from "./lockfile.js";
export type { FindPackOptions, InstalledPack } from "./packs.js";
export {
  findPack,
  installedPack,
  installedPacks,
  listPacks,
  packagesDir,
  readPack,
  readPackManifest,
} from "./packs.js";
export type { BuildRegistryOptions, PackedPack } from "./publish.js";
export { buildRegistry, packDirectory, packDirsUnder, qualityOf } from "./publish.js";
export type { PrefixUse } from "./query-prefixes.js";
export { undeclaredPrefixes } from "./query-prefixes.js";
export { bestVersion, isNewer, latestVersion, parseIndex, validateIndex } from "./registry-index.js";
export type { Requirement, Resolved } from "./resolve.js";
export { resolveRequirements } from "./resolve.js";
export type {
  PreparedIndex,
  SavedPostings,
  SearchablePack,
  SearchHit,
  SearchOptions,
} from "./search.js";
export { didYouMeanPack, prepareSearch, restorePrepared, search, stringsOf } from "./search.js";
export type {
  Catalog,
  CatalogEntry,
  LoadedRegistry,
  MarketOptions,
  PackSummary,
  RegistrySource,
} from "./sources.js";
export {
  cacheDir,
  defaultRegistryDir,
  ggenHome,
  loadCatalog,
  loadRegistry,
  marketLimits,
  parseRegistrySpec,
  resolveRegistries,
  searchCatalog,
  searchSaved,
} from "./sources.js";
export { syntheticIndex } from "./synthetic.js";
