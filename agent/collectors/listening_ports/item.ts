// What one listening port is, as the store, the page, --once and the records show it.
import type { Protocol } from "./proc_net.ts";

/** One address and port something waits on for peers, with the processes that hold its sockets. */
export type PortItem = {
  /** tcp, tcp6, udp or udp6: the kernel table it came from, as netstat's Proto column says it. */
  Protocol: Protocol;
  /**
   * The local address as inet_ntop writes it (`0.0.0.0` and `::` are every address); on Windows a link-local
   * address carries its interface (`fe80::1%4`), as Windows' netstat writes it.
   */
  Address: string;
  Port: number;
  /** `address:port` (`[address]:port` for IPv6), as ss shows it: how the page and --once name the item. */
  Endpoint: string;
  /**
   * The command names (comm) of the processes that hold the socket, sorted, `, ` between them; on Windows their
   * image names (`svchost.exe`).
   */
  Process: string | null;
  /** Their executables (/proc/<pid>/exe; Windows: the image path): another program on the same port is a change. */
  Executable: string | null;
  /** Their effective users (Windows: the account of each process's token). */
  User: string | null;
  /** The lowest pid holding it; changes with every restart, so never diffed. */
  Pid: number | null;
  /** Every pid holding it (a server's workers share its socket). Never diffed either. */
  Pids: string | null;
  /**
   * Why Process, Executable and User are empty: some processes' open files could not be read (Linux), a process
   * could not be opened, its token not read, or the table names none (Windows). Never diffed.
   */
  OwnerNote?: string;
};
