//! ID-keyed tables (strings, stacks) of one generation.
//!
//! IDs are chosen by the runtime and are normally dense from 1, so the table is a vector
//! indexed by ID. IDs from a damaged or hostile file may be sparse or huge; then the entries
//! are kept sorted and found by binary search. Memory is bounded by the number of entries,
//! which is bounded by the input size.

/// A table from IDs to values, built once and then only read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTable<T> {
    repr: Repr<T>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Repr<T> {
    Dense(Vec<Option<T>>),
    Sparse(Vec<(u64, T)>),
}

impl<T> Default for IdTable<T> {
    fn default() -> Self {
        Self {
            repr: Repr::Sparse(Vec::new()),
        }
    }
}

impl<T: Copy> IdTable<T> {
    /// Builds a table from `(id, value)` pairs. On failure returns the index of the first
    /// entry (in the order given) whose ID is already taken; ID 0 counts as always taken, as
    /// in Go.
    pub fn build(mut entries: Vec<(u64, T)>) -> Result<Self, usize> {
        if let Some(i) = entries.iter().position(|(id, _)| *id == 0) {
            return Err(i);
        }
        // Sort by ID, keeping the given order among equal IDs, to find duplicates.
        let mut order: Vec<u32> = (0..entries.len() as u32).collect();
        order.sort_by_key(|&i| entries[i as usize].0);
        let mut first_dup: Option<u32> = None;
        for w in order.windows(2) {
            if entries[w[0] as usize].0 == entries[w[1] as usize].0 {
                let later = w[1];
                first_dup = Some(first_dup.map_or(later, |d| d.min(later)));
            }
        }
        if let Some(i) = first_dup {
            return Err(i as usize);
        }
        let max_id = entries.iter().map(|e| e.0).max().unwrap_or(0);
        if max_id <= 2 * entries.len() as u64 + 64 {
            let mut dense = vec![None; max_id as usize + 1];
            for (id, v) in entries {
                dense[id as usize] = Some(v);
            }
            Ok(Self {
                repr: Repr::Dense(dense),
            })
        } else {
            entries.sort_by_key(|e| e.0);
            Ok(Self {
                repr: Repr::Sparse(entries),
            })
        }
    }

    /// The value with `id`, if present. ID 0 is never present (it means "none").
    #[inline]
    pub fn get(&self, id: u64) -> Option<T> {
        match &self.repr {
            Repr::Dense(v) => usize::try_from(id)
                .ok()
                .and_then(|i| v.get(i).copied().flatten()),
            Repr::Sparse(v) => v.binary_search_by_key(&id, |e| e.0).ok().map(|i| v[i].1),
        }
    }

    /// Whether `id` is 0 or present, which is what Go's reader accepts as a valid reference.
    #[inline]
    pub fn is_valid_ref(&self, id: u64) -> bool {
        id == 0 || self.get(id).is_some()
    }

    /// Every `(id, value)` in ID order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, T)> + '_ {
        let (dense, sparse) = match &self.repr {
            Repr::Dense(v) => (Some(v), None),
            Repr::Sparse(v) => (None, Some(v)),
        };
        let dense = dense
            .into_iter()
            .flat_map(|v| v.iter().enumerate())
            .filter_map(|(i, v)| v.map(|v| (i as u64, v)));
        let sparse = sparse.into_iter().flat_map(|v| v.iter().copied());
        dense.chain(sparse)
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Dense(v) => v.iter().filter(|e| e.is_some()).count(),
            Repr::Sparse(v) => v.len(),
        }
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse_tables_answer_alike() {
        let dense = IdTable::build(vec![(2, 'b'), (1, 'a'), (3, 'c')]).unwrap();
        let sparse = IdTable::build(vec![(2, 'b'), (1 << 40, 'x'), (1, 'a')]).unwrap();
        assert!(matches!(dense.repr, Repr::Dense(_)));
        assert!(matches!(sparse.repr, Repr::Sparse(_)));
        assert_eq!(dense.get(2), Some('b'));
        assert_eq!(sparse.get(2), Some('b'));
        assert_eq!(sparse.get(1 << 40), Some('x'));
        assert_eq!(dense.get(0), None);
        assert!(dense.is_valid_ref(0));
        assert!(!dense.is_valid_ref(9));
        assert_eq!(
            sparse.iter().map(|e| e.0).collect::<Vec<_>>(),
            [1, 2, 1 << 40]
        );
        assert_eq!(dense.len(), 3);
    }

    #[test]
    fn duplicates_and_zero_are_rejected() {
        assert_eq!(
            IdTable::build(vec![(1, 'a'), (5, 'b'), (1, 'c'), (5, 'd')]),
            Err(2)
        );
        assert_eq!(IdTable::build(vec![(0, 'a')]), Err(0));
    }
}
