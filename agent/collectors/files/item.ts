// One item of the files collector: a file, directory, link or special file.

/** Keys are Log Analytics columns where one exists. */
export type FileItem = {
  FileSystemPath: string;
  /** File | Directory | SymbolicLink | Fifo | Socket | CharacterDevice | BlockDevice */
  FileType: string;
  Size: number | null;
  DateCreated: string | null;
  DateModified: string | null;
  /** Permission bits, 4 octal digits ("0644", "4755"). */
  Mode: string | null;
  /**
   * The access ACL: Linux, getfacl's short text (`user::rw-,group::r--,other::r--` and any extended
   * entries); Windows, the DACL as SDDL. Null where there is none to read (a symlink, an offline image).
   */
  Acls: string | null;
  OwnerId: number | null;
  Owner: string | null;
  GroupId: number | null;
  Group: string | null;
  Inode: string | null;
  LinkTarget: string | null;
  FileContentChecksum: string | null;
  GroupTag: string;
  /** The fileInfo entry (name) that matched. */
  RuleName: string;
  /** Fingerprint of dev, inode, size, mtime, ctime of what was hashed (see statKey). Volatile. */
  StatKey: string | null;
  /** Windows only: file attributes as .NET prints them ("ReadOnly, Archive"); the LA column Attributes. */
  Attributes?: string | null;
  /** Why the content of this version was not captured although it could have been (capture.ts). */
  ContentNotCaptured?: string;
  error?: string;
};
