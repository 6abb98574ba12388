//! Splitting a byte stream into lines, with a bound on line length so that a server that
//! never sends a newline cannot exhaust memory.

use bytes::{Buf, Bytes, BytesMut};

use crate::error::Error;

pub const DEFAULT_MAX_LINE: usize = 64 * 1024 * 1024;

pub struct LineBuffer {
    buf: BytesMut,
    /// Bytes before this offset hold no newline (saves rescanning on every chunk).
    scanned: usize,
    max_line: usize,
    /// Total bytes handed out so far, for error messages that name an offset.
    offset: u64,
}

impl LineBuffer {
    pub fn new(max_line: usize) -> Self {
        LineBuffer { buf: BytesMut::new(), scanned: 0, max_line, offset: 0 }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The byte offset in the stream of the next line to be returned.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next complete line (without `\n` or `\r\n`), or None if more data is needed.
    /// Errors if the pending line is already longer than the bound.
    pub fn next_line(&mut self) -> Result<Option<Bytes>, Error> {
        match memchr::memchr(b'\n', &self.buf[self.scanned..]) {
            Some(pos) => {
                let end = self.scanned + pos;
                if end > self.max_line {
                    return Err(self.too_long());
                }
                let mut line = self.buf.split_to(end + 1);
                self.offset += line.len() as u64;
                self.scanned = 0;
                line.truncate(end);
                if line.last() == Some(&b'\r') {
                    line.truncate(end - 1);
                }
                Ok(Some(line.freeze()))
            }
            None => {
                self.scanned = self.buf.len();
                if self.buf.len() > self.max_line {
                    return Err(self.too_long());
                }
                Ok(None)
            }
        }
    }

    /// At the end of the stream: what is left, as a last line without newline.
    pub fn finish(&mut self) -> Option<Bytes> {
        if self.buf.is_empty() {
            return None;
        }
        let rest = std::mem::take(&mut self.buf);
        self.offset += rest.len() as u64;
        self.scanned = 0;
        Some(rest.freeze())
    }

    /// Drops everything buffered (used when a stream is abandoned).
    pub fn clear(&mut self) {
        self.buf.advance(self.buf.len());
        self.scanned = 0;
    }

    fn too_long(&self) -> Error {
        Error::Body(format!(
            "a line in the stream at byte offset {} is longer than the limit of {} bytes",
            self.offset, self.max_line
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_across_chunks() {
        let mut lb = LineBuffer::new(100);
        lb.push(b"{\"a\":1}\r\n{\"b\"");
        assert_eq!(lb.next_line().unwrap().unwrap(), &b"{\"a\":1}"[..]);
        assert!(lb.next_line().unwrap().is_none());
        lb.push(b":2}\n\nlast");
        assert_eq!(lb.next_line().unwrap().unwrap(), &b"{\"b\":2}"[..]);
        assert_eq!(lb.next_line().unwrap().unwrap(), &b""[..]);
        assert!(lb.next_line().unwrap().is_none());
        assert_eq!(lb.finish().unwrap(), &b"last"[..]);
        assert!(lb.finish().is_none());
    }

    #[test]
    fn bounds_line_length() {
        let mut lb = LineBuffer::new(8);
        lb.push(b"ok\n0123456789");
        assert!(lb.next_line().unwrap().is_some());
        let err = lb.next_line().unwrap_err().to_string();
        assert!(err.contains("offset 3") && err.contains("limit of 8"), "{err}");
    }
}
