// zod, as ctagent uses it: `import * as z from "…/zod.ts"` and `z.string()` as with zod's own `z`. zod's `z` is
// its whole namespace, which a bundle then holds whole: `import { z } from "zod"` alone minified to 454 KB, and
// the page's worker loaded it at every start (~60 ms of its module's 160 ms, measured with `--no-code-cache`).
// Named here, only what is used is bundled (95 KB for a schema and its JSON Schema). Add a name when you need it.
export {
  array,
  boolean,
  enum,
  literal,
  looseObject,
  NEVER,
  number,
  object,
  record,
  strictObject,
  string,
  toJSONSchema,
  union,
  unknown,
} from "zod";
export type { core, infer, input, output, ZodObject, ZodType, ZodUnknown } from "zod";
