// Windows users and groups of the running machine, as netapi32 lists them (host.accounts).
import type { Collected } from "../types.ts";
import type { LocalAccounts, LocalGroup } from "../../host/mod.ts";
import { blankItem, type UserItem } from "./item.ts";
import { ADMINISTRATORS } from "./sam.ts";

/** UF_ACCOUNTDISABLE in NetUserEnum's flags. */
const UF_ACCOUNTDISABLE = 0x2;

/** The RID of a SID given as text: its last part. */
function ridOf(sid: string | null): number | null {
  const last = sid?.split("-").pop();
  return last && /^\d+$/.test(last) ? Number(last) : null;
}

/**
 * The local users and groups of the live machine. A member `DOMAIN\name` is a local user when DOMAIN is this
 * machine's (or absent, as Wine gives it) and the name is a local user's; any other member (a domain account,
 * a well-known SID, a group) stays on the group, in OtherMembers.
 */
export function readLiveWindowsUsers(accounts: LocalAccounts): Collected<UserItem> {
  const domain = accounts.domain().toUpperCase();
  const users = new Map(accounts.users().map((u) => [u.name.toUpperCase(), u]));
  const groups: LocalGroup[] = accounts.groups();
  // Administrators has the machine's language's name: found by its SID when the list does not have it (Wine).
  if (!groups.some((g) => g.sid === ADMINISTRATORS)) {
    const admins = accounts.group(ADMINISTRATORS);
    if (admins) groups.push(admins);
  }
  const memberOf = new Map<string, string[]>();
  const items: UserItem[] = [];
  for (const g of groups) {
    const item = blankItem("group", g.name, ridOf(g.sid));
    item.Admin = g.sid === ADMINISTRATORS;
    const others: string[] = [];
    for (const m of g.members) {
      const cut = m.lastIndexOf("\\");
      const [memberDomain, name] = cut < 0 ? ["", m] : [m.slice(0, cut), m.slice(cut + 1)];
      const local = (memberDomain === "" || memberDomain.toUpperCase() === domain) &&
        users.has(name.toUpperCase());
      if (!local) others.push(m);
      else memberOf.set(name.toUpperCase(), [...memberOf.get(name.toUpperCase()) ?? [], g.name]);
    }
    item.OtherMembers = others.sort().join(", ");
    items.push(item);
  }
  const adminNames = new Set(groups.filter((g) => g.sid === ADMINISTRATORS).map((g) => g.name));
  for (const [upper, u] of users) {
    const item = blankItem("user", u.name, u.rid);
    const mine = memberOf.get(upper) ?? [];
    item.FullName = u.fullName;
    item.Groups = [...mine].sort().join(", ");
    item.Admin = adminNames.size ? mine.some((g) => adminNames.has(g)) : null;
    item.Disabled = (u.flags & UF_ACCOUNTDISABLE) !== 0;
    items.push(item);
  }
  return { items };
}
