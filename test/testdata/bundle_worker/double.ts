// Shared by the stand-in program and its worker: the worker's own imports must travel with it.
import { createHash } from "node:crypto";

export const double = (n: number) =>
  `${n * 2}:${createHash("sha256").update(String(n)).digest("hex").slice(0, 8)}`;
