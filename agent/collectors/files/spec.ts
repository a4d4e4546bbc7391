// The files collector's spec: the paths of the DCR's fileInfo entries with their SHA-256 and, for text, content.
import { defineCollector } from "../spec.ts";
import type { FileItem } from "./item.ts";

export default defineCollector<FileItem>({
  name: "files",
  label: "Files",
  nouns: ["file", "files"],
  platforms: ["linux", "windows"],
  schedule: { dcr: "enableFiles", frequency: "fileSettings.fileCollectionFrequency" },
  dataType: { linux: "Files", windows: "Files" },
  toAma: true,
  key: (i) => i.FileSystemPath,
  nameField: "FileSystemPath",
  // Inode and StatKey drive re-hashing; GroupTag, RuleName and ContentNotCaptured follow the DCR, not the file.
  volatile: ["Inode", "StatKey", "GroupTag", "RuleName", "ContentNotCaptured"],
  // 0.2: the access ACL (SPEC §7.21); the fingerprints changed with it, so every file is read once more.
  revisions: [["Acls"]],
  columns: [
    { field: "FileSystemPath", label: "Path", style: "strong mono", sortAs: "key" },
    { field: "Size", label: "Size", format: "bytes", style: "num" },
    { field: "DateModified", label: "Modified", format: "time", timestamp: true },
    { field: "FileContentChecksum", label: "SHA-256", format: "hash", style: "mono dim" },
    { field: "Owner", label: "Owner" },
    { field: "Mode", label: "Mode", style: "mono" },
  ],
  filterable: ["FileType", "Owner", "Group", "Mode", "RuleName"],
  fields: { DateCreated: { format: "time", timestamp: true } },
  mirror: { linux: [{ file: "File.json" }], windows: [{ file: "File.json" }] },
  content: { checksumField: "FileContentChecksum", notCapturedField: "ContentNotCaptured" },
  page: {
    icon: "F",
    shortcut: "f",
    color: ["#0891b2", "#22d3ee"],
    empty: "No files are tracked: add fileInfo entries to the DCR.",
    path: true,
    important: ["FileContentChecksum"],
    summary: "Size",
  },
});
