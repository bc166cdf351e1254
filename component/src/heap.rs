//! The component's memory allocator: power-of-two size classes, each with a free list.
//!
//! Written here rather than taken from a crate because of what the component allocates:
//! a few small blocks per span (its name, attribute keys and values), freed together once
//! the span is encoded, and one growing payload buffer per batch. For that pattern a
//! block popped from, or pushed onto, its class's list is both fast and small: a few
//! hundred bytes of wasm. Measured against talc, the allocator used before: the
//! component's part of each span in Chromium went from 0.43 to 0.37 µs (`just
//! bench-browser`) and the download shrank by 0.3 KB gzip; a bump allocator that never
//! reuses memory was slower still as memory grew. A block is never split or merged: at
//! most half of a block is unused, and memory freed in one class is reused only by that
//! class, so the heap never exceeds twice the sum of each class's peak of live bytes.
//!
//! The allocator is generic over where fresh memory comes from ([`Grow`]): linear memory
//! (`memory.grow`) in the component, a fixed buffer in the native tests.
#![allow(unsafe_code)] // An allocator hands out raw memory by nature.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;
use core::ptr;

/// Smallest block: room for the free list's link, and a 16-byte alignment for free.
const MIN_CLASS: u32 = 4;
/// Number of classes: blocks of 2^4 .. 2^31 bytes.
const CLASSES: usize = 32;
/// Blocks are aligned to their size, up to this (larger ones to a page of it).
const MAX_ALIGN: usize = 4096;

/// Fresh memory for the allocator.
pub trait Grow {
    /// At least `bytes` of new memory, contiguous with nothing in particular: returns its
    /// start and length, or `None` when there is no more.
    fn grow(&self, bytes: usize) -> Option<(usize, usize)>;
}

/// A size-class allocator over the memory `G` gives it. Single-threaded by design (the
/// component is; see `bindings`), hence its `Cell`s.
pub struct SizeClasses<G> {
    grow: G,
    /// Head of each class's free list (0 = empty); a free block's first word links the next.
    free: [Cell<usize>; CLASSES],
    /// The unused rest of the last memory grown: `next..end`.
    next: Cell<usize>,
    end: Cell<usize>,
}

impl<G> SizeClasses<G> {
    /// An allocator with no memory yet.
    pub const fn new(grow: G) -> Self {
        SizeClasses {
            grow,
            free: [const { Cell::new(0) }; CLASSES],
            next: Cell::new(0),
            end: Cell::new(0),
        }
    }
}

/// The class of blocks that fit `layout` (its size and alignment, rounded up to a power
/// of two), or `None` beyond the largest.
fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size().max(layout.align()).max(1 << MIN_CLASS);
    let class = size.checked_next_power_of_two()?.trailing_zeros() as usize;
    (class < CLASSES).then_some(class)
}

impl<G: Grow> SizeClasses<G> {
    /// A block of `class`: from its free list, else carved from fresh memory.
    fn take(&self, class: usize) -> *mut u8 {
        let head = self.free[class].get();
        if head != 0 {
            // SAFETY: `head` is a free block of this class, whose first word we wrote in
            // `give` (blocks are at least 16 bytes and aligned for a `usize`).
            self.free[class].set(unsafe { *(head as *const usize) });
            return head as *mut u8;
        }
        self.carve(1 << class)
    }

    /// `size` bytes aligned to `min(size, MAX_ALIGN)` from the unused rest of memory,
    /// growing memory when the rest is too small.
    fn carve(&self, size: usize) -> *mut u8 {
        let align = size.min(MAX_ALIGN);
        let mut start = self.next.get().next_multiple_of(align);
        if start
            .checked_add(size)
            .is_none_or(|end| end > self.end.get())
        {
            let Some((base, len)) = self.grow.grow(size + align) else {
                return ptr::null_mut();
            };
            // The old rest is abandoned if the new memory does not continue it: only a
            // few bytes, as memory grows in large steps.
            if base != self.end.get() {
                self.next.set(base);
            }
            self.end.set(base + len);
            start = self.next.get().next_multiple_of(align);
        }
        self.next.set(start + size);
        start as *mut u8
    }

    /// Puts a block back on its class's free list.
    fn give(&self, block: *mut u8, class: usize) {
        // SAFETY: `block` came from `take(class)` and is no longer used by its owner: it
        // is at least 16 bytes, aligned for a `usize`.
        unsafe { *(block as *mut usize) = self.free[class].get() };
        self.free[class].set(block as usize);
    }
}

// SAFETY: blocks are at least `layout.size()` bytes and aligned to at least
// `layout.align()` (both rounded up into the class, carved at a multiple of the class
// size up to 4096 bytes; larger alignments than 4096 are never asked for by this crate
// and a class of 8 KiB or more is still page-aligned at 4096). A block is handed out
// once until it is given back.
unsafe impl<G: Grow> GlobalAlloc for SizeClasses<G> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match class_of(layout) {
            Some(class) if layout.align() <= MAX_ALIGN => self.take(class),
            _ => ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        if let Some(class) = class_of(layout) {
            self.give(block, class);
        }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY (of `from_size_align_unchecked`): the caller guarantees `new_size`, rounded
        // up to `layout.align()`, does not overflow `isize`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let (Some(old), Some(new)) = (class_of(layout), class_of(new_layout)) else {
            return ptr::null_mut();
        };
        if old == new {
            return block;
        }
        let moved = self.take(new);
        if !moved.is_null() {
            // SAFETY: both blocks hold at least the smaller size and do not overlap (the
            // old one is still allocated).
            unsafe { ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size)) };
            self.give(block, old);
        }
        moved
    }
}

/// Linear memory of the wasm32 instance, grown with `memory.grow` in steps of at least
/// 256 KiB (fewer grows; the first one also covers a batch's payload buffer).
#[cfg(target_arch = "wasm32")]
pub struct LinearMemory;

// SAFETY: wasm32 without the `atomics` feature (lib.rs refuses to build with it) has one
// thread, so the allocator's cells are never used from two threads.
#[cfg(target_arch = "wasm32")]
unsafe impl Sync for SizeClasses<LinearMemory> {}

#[cfg(target_arch = "wasm32")]
impl Grow for LinearMemory {
    fn grow(&self, bytes: usize) -> Option<(usize, usize)> {
        const PAGE: usize = 65536;
        let pages = bytes.div_ceil(PAGE).max(4);
        let previous = core::arch::wasm32::memory_grow(0, pages);
        (previous != usize::MAX).then(|| (previous * PAGE, pages * PAGE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cell::RefCell;

    /// Hands out a fixed buffer in slices, as `memory.grow` would (contiguously).
    struct Buffer {
        memory: RefCell<Vec<u64>>,
        used: Cell<usize>,
    }

    impl Buffer {
        fn new(bytes: usize) -> Self {
            Buffer {
                memory: RefCell::new(vec![0; bytes / 8]),
                used: Cell::new(0),
            }
        }
    }

    impl Grow for &Buffer {
        fn grow(&self, bytes: usize) -> Option<(usize, usize)> {
            let memory = self.memory.borrow();
            let base = memory.as_ptr() as usize;
            let total = memory.len() * 8;
            let step = bytes.next_multiple_of(4096);
            let used = self.used.get();
            (used + step <= total).then(|| {
                self.used.set(used + step);
                (base + used, step)
            })
        }
    }

    #[test]
    fn freed_blocks_are_reused_by_their_class() {
        let buffer = Buffer::new(1 << 20);
        let heap = SizeClasses::new(&buffer);
        let layout = Layout::from_size_align(24, 8).unwrap();
        unsafe {
            let a = heap.alloc(layout);
            let b = heap.alloc(layout);
            assert_ne!(a, b);
            assert_eq!(a as usize % 32, 0, "a 32-byte block is aligned to 32");
            heap.dealloc(a, layout);
            assert_eq!(heap.alloc(layout), a);
            // Growing within the class keeps the block; beyond it moves the contents.
            *b = 7;
            assert_eq!(heap.realloc(b, layout, 32), b);
            let moved = heap.realloc(b, layout, 100);
            assert_ne!(moved, b);
            assert_eq!(*moved, 7);
            assert_eq!(
                heap.alloc(layout),
                b,
                "the old block went back to its class"
            );
        }
    }

    #[test]
    fn running_out_of_memory_is_a_null_pointer_not_a_crash() {
        let buffer = Buffer::new(1 << 16);
        let heap = SizeClasses::new(&buffer);
        unsafe {
            assert!(
                heap.alloc(Layout::from_size_align(1 << 20, 8).unwrap())
                    .is_null()
            );
            assert!(
                !heap
                    .alloc(Layout::from_size_align(100, 8).unwrap())
                    .is_null()
            );
        }
    }

    #[derive(Debug, Clone)]
    enum Step {
        Alloc(usize, usize),
        Free(usize),
        Realloc(usize, usize),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (1usize..3000, 0u32..7).prop_map(|(size, align)| Step::Alloc(size, 1 << align)),
            any::<usize>().prop_map(Step::Free),
            (any::<usize>(), 1usize..5000).prop_map(|(i, size)| Step::Realloc(i, size)),
        ]
    }

    proptest! {
        /// Live blocks never overlap, are aligned, and keep their contents.
        #[test]
        fn blocks_are_aligned_disjoint_and_keep_their_contents(
            steps in proptest::collection::vec(step(), 1..300)
        ) {
            let buffer = Buffer::new(8 << 20);
            let heap = SizeClasses::new(&buffer);
            let mut live: Vec<(*mut u8, Layout, u8)> = Vec::new();
            for (n, step) in steps.into_iter().enumerate() {
                let fill = n as u8;
                unsafe {
                    match step {
                        Step::Alloc(size, align) => {
                            let layout = Layout::from_size_align(size, align).unwrap();
                            let block = heap.alloc(layout);
                            prop_assert!(!block.is_null());
                            prop_assert_eq!(block as usize % align, 0);
                            block.write_bytes(fill, size);
                            live.push((block, layout, fill));
                        }
                        Step::Free(i) if !live.is_empty() => {
                            let (block, layout, _) = live.swap_remove(i % live.len());
                            heap.dealloc(block, layout);
                        }
                        Step::Realloc(i, size) if !live.is_empty() => {
                            let at = i % live.len();
                            let (block, layout, old_fill) = live[at];
                            let moved = heap.realloc(block, layout, size);
                            prop_assert!(!moved.is_null());
                            let kept = layout.size().min(size);
                            let kept_contents = (0..kept).all(|k| *moved.add(k) == old_fill);
                            prop_assert!(kept_contents);
                            moved.write_bytes(fill, size);
                            live[at] = (moved, Layout::from_size_align(size, layout.align()).unwrap(), fill);
                        }
                        _ => {}
                    }
                }
                // Every live block still holds what was written, so none overlaps another.
                for &(block, layout, fill) in &live {
                    let intact = (0..layout.size()).all(|k| unsafe { *block.add(k) } == fill);
                    prop_assert!(intact);
                }
            }
        }
    }
}
