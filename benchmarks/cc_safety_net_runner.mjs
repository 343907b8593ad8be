// Reads JSON Lines {"id", "command", "cwd"} on stdin; answers one line {"id", "decision", "ns"} per input, where
// decision is cc-safety-net's own (allow / deny) and ns the in-process time of its checkCommand call.
import { checkCommand } from "cc-safety-net/api";
import { createInterface } from "node:readline";

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  const { id, command, cwd } = JSON.parse(line);
  const start = process.hrtime.bigint();
  let decision;
  try {
    decision = checkCommand({ command, cwd }).kind;
  } catch (error) {
    decision = "error";
  }
  const ns = Number(process.hrtime.bigint() - start);
  process.stdout.write(JSON.stringify({ id, decision, ns }) + "\n");
}
