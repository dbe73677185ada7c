//! A card in vsmartcard's virtual reader (vpcd), seen from the card's side.
//!
//! vpcd is a pcscd reader driver (Debian `vsmartcard-vpcd`) that listens on TCP
//! port 35963; a virtual card connects to it, and pcscd then reports a card in
//! the reader "Virtual PCD". Every message either way is a 2-byte big-endian
//! length and a payload. vpcd sends 1-byte control messages (power off, power
//! on, reset, ATR request) and, anything longer, command APDUs; the card
//! answers the ATR request with its ATR and each APDU with its response, and
//! nothing else. Closing the connection is pulling the card out.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// vpcd's port in its Debian configuration (/etc/reader.conf.d/vpcd, 0x8C7B).
pub const DEFAULT_PORT: u16 = 35963;

/// The ATR of a My Number card, as OpenSC's JPKI driver (card-jpki.c) matches
/// it: direct convention, T=1 only, IFSC 254, no historical bytes.
pub const JPKI_ATR: [u8; 9] = [0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14];

const CTRL_POWER_OFF: u8 = 0;
const CTRL_POWER_ON: u8 = 1;
const CTRL_RESET: u8 = 2;
const CTRL_ATR: u8 = 4;

/// What vpcd asks of the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    PowerOff,
    PowerOn,
    Reset,
    /// Answer with the ATR; pcscd also asks this to see whether the card is still there.
    Atr,
    /// A command APDU; answer with the response APDU.
    Apdu(Vec<u8>),
    /// A 1-byte message this protocol does not define; ignored.
    Unknown(u8),
}

impl Request {
    fn parse(payload: Vec<u8>) -> Request {
        match *payload.as_slice() {
            [CTRL_POWER_OFF] => Request::PowerOff,
            [CTRL_POWER_ON] => Request::PowerOn,
            [CTRL_RESET] => Request::Reset,
            [CTRL_ATR] => Request::Atr,
            [other] => Request::Unknown(other),
            _ => Request::Apdu(payload),
        }
    }
}

/// The card's connection to vpcd.
pub struct VpcdConnection {
    stream: TcpStream,
    /// Bytes received but not yet a whole message.
    pending: Vec<u8>,
}

impl VpcdConnection {
    /// Connects to vpcd at `address` (host:port). The card is "inserted" from
    /// here on; `poll_interval` bounds how long [`VpcdConnection::next_request`]
    /// blocks, so that the caller can react to other events (signals).
    pub fn connect(
        address: impl ToSocketAddrs,
        poll_interval: Duration,
    ) -> io::Result<VpcdConnection> {
        let mut last_error = io::Error::new(io::ErrorKind::NotFound, "no address to connect to");
        for address in address.to_socket_addrs()? {
            match TcpStream::connect_timeout(&address, poll_interval.max(Duration::from_secs(1))) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    stream.set_read_timeout(Some(poll_interval))?;
                    return Ok(VpcdConnection {
                        stream,
                        pending: Vec::new(),
                    });
                }
                Err(err) => last_error = err,
            }
        }
        Err(last_error)
    }

    /// The next request, or `None` when none came within the poll interval.
    /// vpcd closing the connection (pcscd stopped) is an `UnexpectedEof` error.
    pub fn next_request(&mut self) -> io::Result<Option<Request>> {
        loop {
            if let Some(payload) = self.take_message() {
                return Ok(Some(Request::parse(payload)));
            }
            let mut buffer = [0u8; 4096];
            match self.stream.read(&mut buffer) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "vpcd closed the connection",
                    ));
                }
                Ok(n) => self.pending.extend_from_slice(&buffer[..n]),
                Err(err)
                    if matches!(
                        err.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None);
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
    }

    /// Sends the answer to an ATR request or an APDU.
    pub fn send(&mut self, payload: &[u8]) -> io::Result<()> {
        let length = u16::try_from(payload.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "answer too long for vpcd"))?;
        let mut message = Vec::with_capacity(payload.len() + 2);
        message.extend_from_slice(&length.to_be_bytes());
        message.extend_from_slice(payload);
        self.stream.write_all(&message)
    }

    fn take_message(&mut self) -> Option<Vec<u8>> {
        let (&[high, low], rest) = self.pending.split_first_chunk::<2>()?;
        let length = usize::from(u16::from_be_bytes([high, low]));
        if rest.len() < length {
            return None;
        }
        let payload = rest[..length].to_vec();
        self.pending.drain(..2 + length);
        Some(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut bytes = (payload.len() as u16).to_be_bytes().to_vec();
        bytes.extend_from_slice(payload);
        bytes
    }

    #[test]
    fn the_atr_is_the_one_opensc_matches_and_its_check_byte_holds() {
        // TCK makes the XOR of T0 to TCK zero (ISO 7816-3 8.2.5).
        assert_eq!(JPKI_ATR[1..].iter().fold(0, |x, b| x ^ b), 0);
    }

    #[test]
    fn reads_control_messages_and_apdus_split_across_reads_and_answers_framed() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let vpcd = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut bytes = Vec::new();
            for payload in [
                &[1u8][..],
                &[4],
                &[0x00, 0xA4, 0x04, 0x0C],
                &[2],
                &[0],
                &[9],
            ] {
                bytes.extend(frame(payload));
            }
            // One message cut in two writes.
            socket.write_all(&bytes[..5]).unwrap();
            socket.flush().unwrap();
            std::thread::sleep(Duration::from_millis(50));
            socket.write_all(&bytes[5..]).unwrap();
            let mut answer = [0u8; 4];
            socket.read_exact(&mut answer).unwrap();
            answer
        });
        let mut card = VpcdConnection::connect(address, Duration::from_millis(20)).unwrap();
        let mut requests = Vec::new();
        while requests.len() < 6 {
            if let Some(request) = card.next_request().unwrap() {
                requests.push(request);
            }
        }
        assert_eq!(
            requests,
            [
                Request::PowerOn,
                Request::Atr,
                Request::Apdu(vec![0x00, 0xA4, 0x04, 0x0C]),
                Request::Reset,
                Request::PowerOff,
                Request::Unknown(9),
            ]
        );
        card.send(&[0x90, 0x00]).unwrap();
        assert_eq!(vpcd.join().unwrap(), [0x00, 0x02, 0x90, 0x00]);
        assert_eq!(
            card.next_request().unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
    }
}
