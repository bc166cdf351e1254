//! A segment's term index: the term table (in memory, 12 bytes per distinct term) and
//! the posting lists it points into (on disk, read by range). Spans and log records
//! each have one.

use std::fs::File;
use std::os::unix::fs::FileExt;

use super::format::{Place, Reader};

/// Terms and where their lists are.
#[derive(Debug, Default)]
pub struct TermIndex {
    /// Term hashes and where their postings start, by hash.
    terms: Vec<(u64, u32)>,
    /// Where the last list ends.
    end: u32,
    /// Where the lists are in the file.
    postings: Place,
    /// How many items the lists number (every number is below).
    items: u64,
}

impl TermIndex {
    /// Reads a term table (as `PostingLists::write` writes it) for lists at `postings`
    /// numbering `items` items.
    pub fn load(table: &[u8], postings: Place, items: u64) -> Result<TermIndex, String> {
        let mut r = Reader::new(table);
        let rows = table.len().saturating_sub(4) / 12;
        let mut terms = Vec::with_capacity(rows);
        for _ in 0..rows {
            terms.push((r.u64()?, r.u32()?));
        }
        let end = r.u32()?;
        if u64::from(end) != postings.len {
            return Err("the term table does not match the postings".into());
        }
        Ok(TermIndex {
            terms,
            end,
            postings,
            items,
        })
    }

    /// The item numbers that carry `term`, ascending; empty if none does.
    pub fn list(&self, file: &File, term: u64) -> anyhow::Result<Vec<u32>> {
        let Ok(at) = self.terms.binary_search_by_key(&term, |&(hash, _)| hash) else {
            return Ok(Vec::new());
        };
        let start = self.terms[at].1;
        let end = self.terms.get(at + 1).map_or(self.end, |t| t.1);
        if start > end || end > self.end {
            anyhow::bail!("damaged term table");
        }
        let mut bytes = vec![0; (end - start) as usize];
        file.read_exact_at(&mut bytes, self.postings.offset + u64::from(start))?;
        let mut r = Reader::new(&bytes);
        let mut numbers = Vec::new();
        let mut number = 0u64;
        while !r.is_empty() {
            number += r.varint().map_err(anyhow::Error::msg)?;
            if number >= self.items {
                anyhow::bail!("damaged posting list");
            }
            numbers.push(number as u32);
        }
        Ok(numbers)
    }

    /// The item numbers that carry every one of `terms`, ascending; `None` when `terms`
    /// is empty (every item).
    pub fn all_of(&self, file: &File, terms: &[u64]) -> anyhow::Result<Option<Vec<u32>>> {
        let mut lists = Vec::with_capacity(terms.len());
        for &term in terms {
            let list = self.list(file, term)?;
            if list.is_empty() {
                return Ok(Some(Vec::new()));
            }
            lists.push(list);
        }
        lists.sort_by_key(Vec::len);
        let mut lists = lists.into_iter();
        let Some(mut numbers) = lists.next() else {
            return Ok(None);
        };
        for list in lists {
            numbers.retain(|number| list.binary_search(number).is_ok());
        }
        Ok(Some(numbers))
    }
}
