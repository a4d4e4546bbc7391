// The logical streams records travel on: AMA's three (SPEC §1.6), and ctagent's own two for collectors AMA does
// not take (they reach a `--forward` endpoint only).
export const AMA_STREAMS = ["CONFIG_CHANGE_BLOB", "CONFIG_CHANGE_BLOB_V2", "CONFIG_DATA_BLOB_V2"] as const;
export type AmaStream = typeof AMA_STREAMS[number];

/** Change and inventory records of collectors whose spec says `toAma: false`. */
export const OWN_STREAMS = ["CTAGENT_CHANGE", "CTAGENT_DATA"] as const;

export type Stream = AmaStream | typeof OWN_STREAMS[number];
