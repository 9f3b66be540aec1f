// Reads an iCalendar file the way Mozilla's ical.js does (Thunderbird, many web clients):
// each VEVENT's DTSTART/DTEND resolved through the file's own VTIMEZONE, printed as
// {"uid": [start, end]} in seconds since the epoch (UTC).
// Usage: node ical_instants.mjs <folder holding node_modules/ical.js> <file.ics>
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const [folder, file] = process.argv.slice(2);
const resolved = createRequire(pathToFileURL(folder + "/")).resolve("ical.js");
const ICAL = (await import(pathToFileURL(resolved))).default;
const calendar = new ICAL.Component(ICAL.parse(readFileSync(file, "utf8")));
const out = {};
for (const vevent of calendar.getAllSubcomponents("vevent")) {
  const event = new ICAL.Event(vevent);
  out[event.uid] = [event.startDate.toUnixTime(), event.endDate.toUnixTime()];
}
process.stdout.write(JSON.stringify(out));
