// What the users collector reports: one item per local user and one per local group.

/**
 * A local user or group. Memberships are told once, on the user (`Groups`), so that adding a user to a group is
 * one change; a group's item keeps what no user item can say (`OtherMembers`).
 */
export type UserItem = {
  Kind: "user" | "group";
  Name: string;
  /** A Linux user's uid or group's gid; a Windows account's RID (null: a group whose SID cannot be looked up). */
  Id: number | null;
  /** A Linux user's primary group id. */
  Gid: number | null;
  /** The GECOS full name (Linux), the account's full name (Windows). */
  FullName: string | null;
  Home: string | null;
  Shell: string | null;
  /** A user's groups (primary and supplementary on Linux, local groups on Windows), sorted, ", "-joined. */
  Groups: string | null;
  /** A group's members that are no local user here (Linux: names with no passwd entry; Windows: SIDs, domains). */
  OtherMembers: string | null;
  /**
   * Whether it can act as the administrator: root (uid 0), a member of sudo or wheel, or granted ALL by a
   * sudoers rule (to it or its group); on Windows, Administrators or a member of it. Null when a sudoers file
   * could not be read and nothing else says yes.
   */
  Admin: boolean | null;
  /** The sudoers rules that name it (directly, by alias, or as %group), `file: rule`, "; "-joined. */
  Sudo: string | null;
  /** Linux: the account expired (shadow's expire date is past); Windows: the account is disabled. */
  Disabled: boolean | null;
  /**
   * Linux: `set` (a hash), `locked` (a hash behind `!`), `none` (no hash: `*`, `!`), `empty` (no password needed);
   * null when /etc/shadow cannot be read. Never the hash, nor any part of it.
   */
  PasswordStatus: "set" | "locked" | "none" | "empty" | null;
  /** The day the password was last changed (YYYY-MM-DD, UTC), from /etc/shadow. */
  PasswordChanged: string | null;
  /** The password must be changed: forced (last change 0) or past its maximum age. */
  PasswordExpired: boolean | null;
  /** What could not be read of this account (a SAM record that is damaged). */
  error?: string;
};

/** An item with every field empty but its kind and name. */
export function blankItem(kind: "user" | "group", name: string, id: number | null): UserItem {
  return {
    Kind: kind,
    Name: name,
    Id: id,
    Gid: null,
    FullName: null,
    Home: null,
    Shell: null,
    Groups: null,
    OtherMembers: null,
    Admin: null,
    Sudo: null,
    Disabled: null,
    PasswordStatus: null,
    PasswordChanged: null,
    PasswordExpired: null,
  };
}
