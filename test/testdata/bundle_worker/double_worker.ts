// The stand-in worker: answers each number with double().
import { double } from "./double.ts";

self.onmessage = (e: MessageEvent<number>) => self.postMessage(double(e.data));
