// The two operating systems ctagent runs on and reads, by the one name each has everywhere in the code.
export const PLATFORMS = ["linux", "windows"] as const;
export type Platform = typeof PLATFORMS[number];
