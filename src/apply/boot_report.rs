//! The new server's certificate, as its boot guard reported it on the instance's console. A
//! stock CloverDX image generates a self-signed certificate at its first boot, so nobody can
//! know it in advance, and trusting whatever answers on the network would trust anyone on the
//! path. The guard, running on the instance, reads the certificate its own server presents on
//! 127.0.0.1 and prints its SHA-256 fingerprint on the console; apply reads the console through
//! the cloud's authenticated API (EC2 `GetConsoleOutput`, Compute Engine `getSerialPortOutput`,
//! Azure's boot diagnostics) and pins exactly that certificate: trust proven by the cloud.

use crate::spec::checked::{Fingerprint, fingerprint_text};

/// What the guard prints before the fingerprint (templates/boot/datasource-guard.sh.hbs, whose
/// `log` adds the `cloverlift-guard: ` prefix): `plan NAME tls-sha256 AB:CD:…`.
pub fn marker(plan: &str) -> String {
    format!("cloverlift-guard: plan {plan} tls-sha256 ")
}

/// The last fingerprint the guard of `plan` printed in `console` (a later boot's report wins),
/// as 32 bytes. Consoles prefix lines (timestamps, the unit's name) and may end them with `\r`.
pub fn fingerprint(console: &str, plan: &str) -> Option<[u8; 32]> {
    let marker = marker(plan);
    console
        .lines()
        .filter_map(|line| {
            let at = line.find(&marker)?;
            let rest = line.get(at + marker.len()..)?;
            let word = rest.split_whitespace().next()?;
            Fingerprint::bytes_of(word)
        })
        .next_back()
}

/// For messages and the journal.
pub fn text(bytes: &[u8; 32]) -> String {
    fingerprint_text(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str = "3A:7C:19:E4:5B:02:88:D1:6F:4E:C3:90:AB:21:7D:5E:0F:66:B8:14:C9:33:2A:E7:51:9D:04:F2:6B:8C:A0:1E";

    #[test]
    fn the_last_report_of_this_plan_wins_whatever_prefixes_the_line() {
        let console = format!(
            "[   12.3] cloud-init[812]: cloverlift-guard: plan other tls-sha256 {}\r\n\
             [   13.0] cloud-init[812]: cloverlift-guard: plan prod-eu tls-sha256 {}\r\n\
             cloverlift-guard: plan prod-eu tls-sha256 {FP}\r\n",
            FP.replace("3A", "00"),
            FP.replace("3A", "11"),
        );
        let got = fingerprint(&console, "prod-eu").map(|b| text(&b));
        assert_eq!(got.as_deref(), Some(FP));
    }

    #[test]
    fn no_report_or_a_malformed_one_is_none() {
        assert_eq!(fingerprint("Linux version 6.1\n", "prod-eu"), None);
        assert_eq!(
            fingerprint(
                "cloverlift-guard: plan prod-eu tls-sha256 AB:CD\n",
                "prod-eu"
            ),
            None
        );
    }
}
