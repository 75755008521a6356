//! A chunk's bytes: a list of its own, or a range of the stream's buffer that a window's pieces
//! share.
//!
//! Why: a speculative window (`speculate`) was copied, piece by piece, out of the stream's
//! buffer into lists of their own, on the reader thread: serial work, a megabyte a window, that
//! caps how far a second thread helps (`perf record` on the generated 1,000,000-tuple log,
//! 2026-12-07: the reader thread was ~11 % of all CPU, a quarter of it that copy). Now each
//! piece holds the buffer (`Arc`) and its range in it; the stream, when it must write to a
//! buffer that pieces still hold, goes on in another one (`source`), moving only the bytes it has
//! not consumed yet, which it would have moved anyway.

use std::ops::{Deref, Range};
use std::sync::Arc;

/// Bytes of a chunk; see the module docs.
#[derive(Clone)]
pub struct SharedBytes {
    #[expect(
        clippy::rc_buffer,
        reason = "the stream grows the buffer in place for a large record (`Arc::make_mut`), and an exact chunk's list goes back to its pool as a `Vec`"
    )]
    buf: Arc<Vec<u8>>,
    range: Range<usize>,
}

impl SharedBytes {
    /// A list of the chunk's own.
    pub fn own(list: Vec<u8>) -> SharedBytes {
        let range = 0..list.len();
        SharedBytes { buf: Arc::new(list), range }
    }

    /// `range` of a buffer shared with others (clipped to the buffer).
    pub fn range(buf: &Arc<Vec<u8>>, range: Range<usize>) -> SharedBytes {
        let end = range.end.min(buf.len());
        SharedBytes { buf: Arc::clone(buf), range: range.start.min(end)..end }
    }

    /// The list, to use again, when nothing else holds it (a chunk's own list; the last piece
    /// of a buffer the stream has let go of).
    pub fn into_list(self) -> Option<Vec<u8>> {
        Arc::try_unwrap(self.buf).ok()
    }
}

impl Deref for SharedBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.buf[self.range.clone()]
    }
}

impl std::fmt::Debug for SharedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedBytes")
            .field("range", &self.range)
            .field("shared", &Arc::strong_count(&self.buf))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_read_their_part_and_lists_come_back_when_no_one_else_holds_them() {
        let own = SharedBytes::own(b"abc".to_vec());
        assert_eq!(&*own, b"abc");
        assert_eq!(own.into_list(), Some(b"abc".to_vec()));
        let buf = Arc::new(b"0123456789".to_vec());
        let (a, b) = (SharedBytes::range(&buf, 0..4), SharedBytes::range(&buf, 4..20));
        assert_eq!((&*a, &*b), (&b"0123"[..], &b"456789"[..]));
        assert_eq!(a.into_list(), None, "the buffer is still held");
        drop(buf);
        assert_eq!(b.into_list().map(|l| l.len()), Some(10), "the last holder gets it");
    }
}
