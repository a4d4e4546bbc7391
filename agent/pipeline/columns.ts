// The columns of the two Log Analytics tables ctagent's records land in (SPEC §2.1, §2.2) and their documented
// values: the one list records.ts builds AMA's records from and the test fake AMA validates them against.

/** Columns every row has; the ones in INGESTION_COLUMNS are set by the ingestion pipeline, never by an agent. */
const COMMON = [
  "TimeGenerated",
  "Computer",
  "SourceComputerId",
  "SourceSystem",
  "VMUUID",
  "ManagementGroupName",
  "Location",
  "Name",
  "Type",
  "_ResourceId",
  "_SubscriptionId",
  "_BilledSize",
  "_IsBillable",
] as const;

/** Common columns no agent-side source fills (SPEC §2.3, last row): an agent's record never carries them. */
export const INGESTION_COLUMNS: ReadonlySet<string> = new Set(
  COMMON.filter((c) => c !== "TimeGenerated" && c !== "Computer"),
);

/** Columns of a `ConfigurationChange` row that describe the change itself, not the item's values. */
export const CHANGE_ROW_COLUMNS: readonly string[] = [
  "ConfigChangeType",
  "ChangeCategory",
  "FieldsChanged",
  "Current",
  "Previous",
  "LastSnapshotAge",
  "SvcChangeType",
];

/** `ConfigurationChange` (the change streams CONFIG_CHANGE_BLOB and _V2), as the table reference lists it. */
export const CHANGE_COLUMNS: ReadonlySet<string> = new Set([
  ...COMMON,
  ...CHANGE_ROW_COLUMNS,
  // Files
  "FileSystemPath",
  "FileContentChecksum",
  "PreviousFileContentChecksum",
  "Size",
  "PreviousSize",
  "DateCreated",
  "PreviousDateCreated",
  "DateModified",
  "PreviousDateModified",
  "Acls",
  "PreviousAcls",
  "Attributes",
  "PreviousAttributes",
  // Registry
  "Hive",
  "RegistryKey",
  "ValueName",
  "ValueData",
  "PreviousValueData",
  "ValueType",
  "PreviousValueType",
  // Software (no CurrentVersion, no Architecture: the version moves in Current/Previous)
  "SoftwareName",
  "SoftwareDescription",
  "SoftwareType",
  "Publisher",
  // Services (no SvcDescription)
  "SvcName",
  "SvcDisplayName",
  "SvcState",
  "SvcPreviousState",
  "SvcStartupType",
  "SvcPreviousStartupType",
  "SvcAccount",
  "SvcPreviousAccount",
  "SvcPath",
  "SvcPreviousPath",
  "SvcController",
  "SvcPreviousController",
  "SvcRunlevels",
  "SvcPreviousRunlevels",
]);

/** `ConfigurationData` (the inventory stream CONFIG_DATA_BLOB_V2), as the table reference lists it. */
export const DATA_COLUMNS: ReadonlySet<string> = new Set([
  ...COMMON,
  "ConfigDataType",
  "FileSystemPath",
  "FileContentChecksum",
  "Size",
  "DateCreated",
  "DateModified",
  "Acls",
  "Attributes",
  "Hive",
  "RegistryKey",
  "ValueName",
  "ValueData",
  "ValueType",
  "SoftwareName",
  "SoftwareDescription",
  "SoftwareType",
  "Publisher",
  "CurrentVersion",
  "Architecture",
  "SvcName",
  "SvcDisplayName",
  "SvcDescription",
  "SvcState",
  "SvcStartupType",
  "SvcAccount",
  "SvcPath",
  "SvcController",
  "SvcRunlevels",
]);

/** Columns of type long and datetime (the others are strings): what their text must look like. */
export const LONG_COLUMNS: ReadonlySet<string> = new Set(["Size", "PreviousSize", "LastSnapshotAge"]);
export const DATETIME_COLUMNS: ReadonlySet<string> = new Set([
  "TimeGenerated",
  "DateCreated",
  "PreviousDateCreated",
  "DateModified",
  "PreviousDateModified",
]);

/** ConfigChangeType / ConfigDataType. */
export const DATA_TYPES: readonly string[] = ["Files", "Software", "WindowsServices", "Registry", "Daemons"];
export const CHANGE_CATEGORIES: readonly string[] = ["Added", "Removed", "Modified"];

/**
 * The documented values of the columns that have a fixed set (SPEC §2.3); `WindowsServices` narrows
 * SvcStartupType, which on Linux is the unit's enablement word (enabled, disabled, static, ...), and has no
 * SvcController or SvcRunlevels.
 */
export const VALUE_SETS: Readonly<Record<string, readonly string[]>> = {
  SoftwareType: ["Application", "Package", "Update"],
  SvcState: ["Running", "Stopped"],
  SvcPreviousState: ["Running", "Stopped"],
};
export const WINDOWS_VALUE_SETS: Readonly<Record<string, readonly string[]>> = {
  SvcStartupType: ["Auto", "Manual", "Disabled"],
  SvcPreviousStartupType: ["Auto", "Manual", "Disabled"],
  // Daemons' columns: WMI's Win32_Service, what the real agent reads on Windows, has neither.
  SvcController: [],
  SvcPreviousController: [],
  SvcRunlevels: [],
  SvcPreviousRunlevels: [],
};

/** Whether `value` may stand in `column` of a record of `dataType` (a column without a documented set takes any). */
export function documentedValue(column: string, value: string, dataType: string): boolean {
  const set = VALUE_SETS[column] ?? (dataType === "WindowsServices" ? WINDOWS_VALUE_SETS[column] : undefined);
  return !set || set.includes(value);
}

/**
 * The columns that name the item: they stay filled on a Removed row, whose other current-value columns are
 * empty and whose last values are in the Previous columns (SPEC §7.17).
 */
export const IDENTITY_COLUMNS: ReadonlySet<string> = new Set([
  "SvcName",
  "SoftwareName",
  "FileSystemPath",
  "RegistryKey",
  "ValueName",
  "Hive",
]);

/** SvcChangeType's words for the changed service columns, in the order they are listed (SPEC §7.16). */
export const SVC_CHANGE_WORDS: readonly (readonly [field: string, word: string])[] = [
  ["SvcState", "State"],
  ["SvcStartupType", "StartupType"],
  ["SvcPath", "Path"],
  ["SvcAccount", "ServiceAccount"],
  ["SvcRunlevels", "Runlevels"],
  ["SvcDisplayName", "DisplayName"],
  ["SvcDescription", "Description"],
  ["SvcController", "Controller"],
];

/** The column that holds a field's previous value: SvcState → SvcPreviousState, Size → PreviousSize. */
export function previousColumn(field: string): string {
  return field.startsWith("Svc") ? `SvcPrevious${field.slice(3)}` : `Previous${field}`;
}
