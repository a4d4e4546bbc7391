// A stand-in for a module that hashes in a worker (as the files collector does), for the bundling tests.
import { double } from "./double.ts";

const worker = new Worker(new URL("./double_worker.ts", import.meta.url).href, { type: "module" });
const answer = await new Promise((resolve) => {
  worker.onmessage = (e) => resolve(e.data);
  worker.postMessage(21);
});
worker.terminate();
// Where this line is, as a stack trace names it (in the sources, when a copy of the bundle names its source map).
const where = new Error("where").stack!.split("\n")[1].trim();
console.log(JSON.stringify({ fromWorker: answer, inMain: double(21), where }));
