// Public entry of @ggen/marketplace: registries, search, install with lockfile and checksums.
export type { ArchiveEntry, ExtractLimits } from "./archive.js";
export { DEFAULT_LIMITS, extractSafe, treeHash, writeTarGz } from "./archive.js";
export type {
  InstallChange,
  InstalledPack,
  InstallOptions,
  InstallResult,
  VerifyEntry,
} from "./install.js";
export {
  addPacks,
  installedPack,
  installedPacks,
  packagesDir,
  parseSpec,
  removePacks,
  updatePacks,
  verifyPacks,
} from "./install.js";
export type { LockEntry, Lockfile } from "./lockfile.js";
export { LOCK_FILE, lockSchema, parseLock, readLock, serializeLock } from "./lockfile.js";
export type { PackManifest, PackTemplate } from "./manifest.js";
export { MANIFEST_FILE, parsePackManifest, readPackManifest } from "./manifest.js";
export type { BuildRegistryOptions, PackedPack } from "./publish.js";
export { buildRegistry, packDirectory, packDirsUnder, qualityOf } from "./publish.js";
export type { IndexPack, IndexVersion, QualityScore, RegistryIndex } from "./registry-index.js";
export {
  bestVersion,
  INDEX_FORMAT,
  indexSchema,
  isNewer,
  latestVersion,
  parseIndex,
  validateIndex,
} from "./registry-index.js";
export type { Requirement, Resolved } from "./resolve.js";
export { resolveRequirements } from "./resolve.js";
export type {
  PreparedIndex,
  SearchablePack,
  SearchHit,
  SearchOptions,
  SerializedPostings,
} from "./search.js";
export { didYouMeanPack, prepareSearch, restorePrepared, search, serializePostings } from "./search.js";
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
  parseRegistrySpec,
  resolveRegistries,
  searchCatalog,
} from "./sources.js";
export { syntheticIndex } from "./synthetic.js";
export { invalidIdReason, sha256 } from "./util.js";
