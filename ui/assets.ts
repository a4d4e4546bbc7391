// The page's files (HTML, JS, CSS) from the generated module, or a page saying how to build them.
export interface Assets {
  html: string;
  js: string;
  css: string;
  /** Content hash of js + css, used as ETag. */
  hash: string;
}

const MISSING: Assets = {
  html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ctagent</title></head>
<body><h1>ctagent</h1><p>The page was not built. Run <code>deno task bundle:ui</code> and start ctagent again.</p></body></html>`,
  js: "",
  css: "",
  hash: "missing",
};

/** Loads ui/assets.gen.ts (made by build/bundle_ui.ts); a literal specifier so bundles and binaries carry it. */
export async function loadAssets(): Promise<Assets & { built: boolean }> {
  try {
    const m = await import("./assets.gen.ts");
    return { ...(m.assets as Assets), built: true };
  } catch (e) {
    if (e instanceof TypeError || (e as Error).name === "NotFound") return { ...MISSING, built: false };
    throw e;
  }
}
