//! Parsing of short command APDUs, as a card's I/O layer would.

use crate::apdu::StatusWord;

/// A decoded short command APDU.
pub(crate) struct Command<'a> {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    /// Command data (empty when Lc is absent).
    pub data: &'a [u8],
    /// Expected response length; 00 in the APDU means 256.
    pub le: Option<usize>,
}

impl<'a> Command<'a> {
    /// Decodes ISO 7816-4 cases 1 to 4 (short form). Extended length is not
    /// supported, like on many cards, and gives `67 00`.
    pub fn parse(raw: &'a [u8]) -> Result<Command<'a>, StatusWord> {
        let Some((&[cla, ins, p1, p2], body)) = raw.split_first_chunk::<4>() else {
            return Err(StatusWord::WRONG_LENGTH);
        };
        let (data, le) = match *body {
            [] => (&[][..], None),
            [le] => (&[][..], Some(short_le(le))),
            [0, ..] => return Err(StatusWord::WRONG_LENGTH),
            [lc, ref rest @ ..] => {
                let lc = usize::from(lc);
                match rest.len() {
                    n if n == lc => (rest, None),
                    n if n == lc + 1 => (&rest[..lc], Some(short_le(rest[lc]))),
                    _ => return Err(StatusWord::WRONG_LENGTH),
                }
            }
        };
        Ok(Command {
            cla,
            ins,
            p1,
            p2,
            data,
            le,
        })
    }
}

fn short_le(byte: u8) -> usize {
    if byte == 0 { 256 } else { usize::from(byte) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_four_cases() {
        let case1 = Command::parse(&[0x00, 0x20, 0x00, 0x80]).expect("case 1");
        assert!(case1.data.is_empty() && case1.le.is_none());
        let case2 = Command::parse(&[0x00, 0xB0, 0x00, 0x00, 0x00]).expect("case 2");
        assert_eq!(case2.le, Some(256));
        let case3 = Command::parse(&[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A]).expect("case 3");
        assert_eq!(case3.data, [0x00, 0x0A]);
        assert_eq!(case3.le, None);
        let case4 = Command::parse(&[0x80, 0x2A, 0x00, 0x80, 0x01, 0xAA, 0x00]).expect("case 4");
        assert_eq!((case4.data, case4.le), (&[0xAA][..], Some(256)));
    }

    #[test]
    fn rejects_inconsistent_lengths() {
        for raw in [
            &[0x00, 0x20, 0x00][..],
            &[0x00, 0x20, 0x00, 0x80, 0x04, 0x31],
            &[0x00, 0x20, 0x00, 0x80, 0x01, 0x31, 0x00, 0x00],
            &[0x00, 0x20, 0x00, 0x80, 0x00, 0x00, 0x01],
        ] {
            assert_eq!(
                Command::parse(raw).err(),
                Some(StatusWord::WRONG_LENGTH),
                "{raw:02X?}"
            );
        }
    }
}
