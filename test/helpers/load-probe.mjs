// Module loader hooks (`node --import <this file>`): appends the URL of every module Node
// loads to the file named by $LOAD_PROBE_OUT, one a line. The hooks run in their own thread,
// so each load is written at once and nothing is lost when the process exits.
import { appendFileSync } from "node:fs";
import { register } from "node:module";
import { isMainThread } from "node:worker_threads";

export async function load(url, context, next) {
  if (process.env.LOAD_PROBE_OUT) appendFileSync(process.env.LOAD_PROBE_OUT, `${url}\n`);
  return next(url, context);
}

if (isMainThread) register(import.meta.url);
