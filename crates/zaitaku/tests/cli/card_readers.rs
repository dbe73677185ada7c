//! `zaitaku card readers` as a person runs it. This machine has no reader (and
//! usually no pcscd): the formatting itself is unit-tested in the binary.

use crate::kit::{output, stderr};

#[cfg(not(feature = "pcsc"))]
#[test]
fn without_pcsc_the_build_says_how_to_get_it() {
    let out = output(&["card", "readers"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "error: this build has no PC/SC support; rebuild without --no-default-features\n"
    );
    assert!(out.stdout.is_empty());
}

#[cfg(feature = "pcsc")]
#[test]
fn readers_are_listed_or_the_reason_there_are_none_is_given() {
    let out = output(&["card", "readers"]);
    let (text, err) = (String::from_utf8_lossy(&out.stdout), stderr(&out));
    match out.status.code() {
        Some(0) => {
            assert!(!text.is_empty());
            for line in text.lines() {
                assert!(
                    [
                        "card ",
                        "no card ",
                        "card in use ",
                        "no answer ",
                        "unavailable "
                    ]
                    .iter()
                    .any(|state| line.starts_with(state)),
                    "{line:?}"
                );
            }
        }
        Some(1) => {
            assert!(text.is_empty(), "{text}");
            assert!(
                err == "error: the PC/SC smart card service is not running; start it \
                        (on Linux: sudo systemctl start pcscd) and try again\n"
                    || err == "error: no smart card reader found; connect a reader and try again\n",
                "{err}"
            );
        }
        code => panic!("exit {code:?}: {err}"),
    }
}

#[test]
fn help_explains_the_states_and_exit_status() {
    let out = output(&["card", "readers", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for shown in [
        "no card",
        "card in use",
        "no answer",
        "Exit status",
        "--no-default-features",
    ] {
        assert!(help.contains(shown), "{shown:?} missing: {help}");
    }
}
