// The program's version, commit and build date (stamped by the build; development fallbacks here).
export const VERSION = "0.1.0";
export const COMMIT: string = "dev";
export const BUILD_DATE: string = "";

export function versionLine(): string {
  return `ctagent ${VERSION} (commit ${COMMIT}${
    BUILD_DATE ? `, built ${BUILD_DATE}` : ""
  }; deno ${Deno.version.deno})`;
}
