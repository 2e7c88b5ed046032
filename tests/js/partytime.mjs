// Parse a feed with podcast-partytime and print what it understood, as JSON.
import { readFileSync } from "node:fs";
import { parseFeed } from "podcast-partytime";

const feed = parseFeed(readFileSync(process.argv[2], "utf8"));
if (!feed) { console.error("partytime could not parse the feed"); process.exit(1); }
// partytime logs through pino on stdout: our answer is the one line after the marker.
console.log("PARTYTIME-RESULT");
console.log(JSON.stringify(feed, (k, v) => (v instanceof Date ? v.toISOString() : v)));
