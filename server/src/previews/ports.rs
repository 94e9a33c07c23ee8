//! Which TCP ports a sandbox listens on, for the workbook's Ports menu: read from the kernel's
//! tables (`/proc/net/tcp` and `tcp6`) as seen inside the sandbox. Only what a preview can reach
//! is listed: sockets listening on the sandbox's loopback or on every address.

/// The script that prints the tables inside the sandbox.
pub const SCRIPT: &str = "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null";

/// TCP_LISTEN in the kernel's `st` column.
const LISTEN: &str = "0A";

/// The listening ports in `tables` (the two files as printed), sorted, each once. Lines that are
/// not a socket's (headers, anything a learner may have put in their way) are skipped.
pub fn listening(tables: &str) -> Vec<u16> {
    let mut ports: Vec<u16> = tables
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let _slot = fields.next()?;
            let local = fields.next()?;
            let _remote = fields.next()?;
            let state = fields.next()?;
            if state != LISTEN {
                return None;
            }
            let (address, port) = local.split_once(':')?;
            let port = u16::from_str_radix(port, 16).ok().filter(|p| *p != 0)?;
            reachable(address).then_some(port)
        })
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// Whether a socket bound to `address` (hex, as the kernel prints it: each 32-bit word in host
/// order, little-endian here) takes connections to the loopback.
fn reachable(address: &str) -> bool {
    const ANY_V4: &str = "00000000";
    const ANY_V6: &str = "00000000000000000000000000000000";
    const LOOPBACK_V6: &str = "00000000000000000000000001000000";
    match address.len() {
        // 127.0.0.0/8: the first octet is the word's last byte.
        8 => address == ANY_V4 || address.ends_with("7F"),
        32 => address == ANY_V6 || address == LOOPBACK_V6,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_sockets_on_loopback_or_any_address() {
        let tables = "\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1
   2: 0A00000A:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1
   3: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4 1
  sl  local_address                         remote_address                        st
   0: 00000000000000000000000001000000:0BB8 00000000000000000000000000000000:0000 0A 0 0
   1: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 0 0
   2: 000080FE00000000FF005450B6AD1DFE:1388 00000000000000000000000000000000:0000 0A 0 0
garbage line
   9: zz:zz 0 0A
";
        // 8080 (any, twice), 80 (127.0.0.1), 3000 (::1); not 22 (10.0.0.10 only), not the
        // established 8080 connection, not 5000 (a link-local address only).
        assert_eq!(listening(tables), vec![80, 3000, 8080]);
    }
}
