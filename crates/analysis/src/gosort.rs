//! Go's unstable sort (`slices.SortFunc`) and binary heap (`container/heap`), step for step.
//!
//! Where Go sorts unstably or pops a heap with ties, the order of equal elements decides
//! which float additions happen in which order, or which of two equal regions comes first.
//! Reproducing Go's results bit for bit therefore needs Go's exact permutations, not just
//! any correct sort or heap. Both are ports of Go 1.27's `slices/zsortanyfunc.go` and
//! `container/heap/heap.go`; the comparison is a strict "less" predicate, as Go's
//! `cmp(a, b) < 0`.

/// Sorts `data` exactly as Go's `slices.SortFunc(data, cmp)` does, with `less(a, b)` for
/// `cmp(a, b) < 0`: pattern-defeating quicksort, insertion sort up to 12 elements.
pub(crate) fn sort_func<T>(data: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let n = data.len();
    let limit = (usize::BITS - n.leading_zeros()) as usize;
    pdqsort(data, 0, n, limit, &less);
}

fn insertion_sort<T>(data: &mut [T], a: usize, b: usize, less: &impl Fn(&T, &T) -> bool) {
    for i in a + 1..b {
        let mut j = i;
        while j > a && less(&data[j], &data[j - 1]) {
            data.swap(j, j - 1);
            j -= 1;
        }
    }
}

fn sift_down<T>(
    data: &mut [T],
    lo: usize,
    hi: usize,
    first: usize,
    less: &impl Fn(&T, &T) -> bool,
) {
    let mut root = lo;
    loop {
        let mut child = 2 * root + 1;
        if child >= hi {
            break;
        }
        if child + 1 < hi && less(&data[first + child], &data[first + child + 1]) {
            child += 1;
        }
        if !less(&data[first + root], &data[first + child]) {
            return;
        }
        data.swap(first + root, first + child);
        root = child;
    }
}

fn heap_sort<T>(data: &mut [T], a: usize, b: usize, less: &impl Fn(&T, &T) -> bool) {
    let first = a;
    let hi = b - a;
    // Only called on more than 12 elements, so `hi - 1` does not underflow.
    for i in (0..=(hi - 1) / 2).rev() {
        sift_down(data, i, hi, first, less);
    }
    for i in (0..hi).rev() {
        data.swap(first, first + i);
        sift_down(data, 0, i, first, less);
    }
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Hint {
    Unknown,
    Increasing,
    Decreasing,
}

fn pdqsort<T>(
    data: &mut [T],
    mut a: usize,
    mut b: usize,
    mut limit: usize,
    less: &impl Fn(&T, &T) -> bool,
) {
    const MAX_INSERTION: usize = 12;
    let mut was_balanced = true;
    let mut was_partitioned = true;
    loop {
        let length = b - a;
        if length <= MAX_INSERTION {
            insertion_sort(data, a, b, less);
            return;
        }
        if limit == 0 {
            heap_sort(data, a, b, less);
            return;
        }
        if !was_balanced {
            break_patterns(data, a, b);
            limit -= 1;
        }
        let (mut pivot, mut hint) = choose_pivot(data, a, b, less);
        if hint == Hint::Decreasing {
            data[a..b].reverse();
            pivot = (b - 1) - (pivot - a);
            hint = Hint::Increasing;
        }
        if was_balanced
            && was_partitioned
            && hint == Hint::Increasing
            && partial_insertion_sort(data, a, b, less)
        {
            return;
        }
        if a > 0 && !less(&data[a - 1], &data[pivot]) {
            a = partition_equal(data, a, b, pivot, less);
            continue;
        }
        let (mid, already) = partition(data, a, b, pivot, less);
        was_partitioned = already;
        let (left_len, right_len) = (mid - a, b - mid);
        let balance_threshold = length / 8;
        if left_len < right_len {
            was_balanced = left_len >= balance_threshold;
            pdqsort(data, a, mid, limit, less);
            a = mid + 1;
        } else {
            was_balanced = right_len >= balance_threshold;
            pdqsort(data, mid + 1, b, limit, less);
            b = mid;
        }
    }
}

fn partition<T>(
    data: &mut [T],
    a: usize,
    b: usize,
    pivot: usize,
    less: &impl Fn(&T, &T) -> bool,
) -> (usize, bool) {
    data.swap(a, pivot);
    // i and j are inclusive; j may go below a + 1 (to a), never below a.
    let (mut i, mut j) = (a + 1, b - 1);
    while i <= j && less(&data[i], &data[a]) {
        i += 1;
    }
    while i <= j && !less(&data[j], &data[a]) {
        j -= 1;
    }
    if i > j {
        data.swap(j, a);
        return (j, true);
    }
    data.swap(i, j);
    i += 1;
    j -= 1;
    loop {
        while i <= j && less(&data[i], &data[a]) {
            i += 1;
        }
        while i <= j && !less(&data[j], &data[a]) {
            j -= 1;
        }
        if i > j {
            break;
        }
        data.swap(i, j);
        i += 1;
        j -= 1;
    }
    data.swap(j, a);
    (j, false)
}

fn partition_equal<T>(
    data: &mut [T],
    a: usize,
    b: usize,
    pivot: usize,
    less: &impl Fn(&T, &T) -> bool,
) -> usize {
    data.swap(a, pivot);
    let (mut i, mut j) = (a + 1, b - 1);
    loop {
        while i <= j && !less(&data[a], &data[i]) {
            i += 1;
        }
        while i <= j && less(&data[a], &data[j]) {
            j -= 1;
        }
        if i > j {
            break;
        }
        data.swap(i, j);
        i += 1;
        j -= 1;
    }
    i
}

fn partial_insertion_sort<T>(
    data: &mut [T],
    a: usize,
    b: usize,
    less: &impl Fn(&T, &T) -> bool,
) -> bool {
    const MAX_STEPS: usize = 5;
    const SHORTEST_SHIFTING: usize = 50;
    let mut i = a + 1;
    for _ in 0..MAX_STEPS {
        while i < b && !less(&data[i], &data[i - 1]) {
            i += 1;
        }
        if i == b {
            return true;
        }
        if b - a < SHORTEST_SHIFTING {
            return false;
        }
        data.swap(i, i - 1);
        // Shift the smaller one to the left. (Go walks down to index 1, not to a.)
        if i - a >= 2 {
            let mut j = i - 1;
            while j >= 1 {
                if !less(&data[j], &data[j - 1]) {
                    break;
                }
                data.swap(j, j - 1);
                j -= 1;
            }
        }
        // Shift the greater one to the right.
        if b - i >= 2 {
            for j in i + 1..b {
                if !less(&data[j], &data[j - 1]) {
                    break;
                }
                data.swap(j, j - 1);
            }
        }
    }
    false
}

fn break_patterns<T>(data: &mut [T], a: usize, b: usize) {
    let length = b - a;
    if length >= 8 {
        let mut random = length as u64;
        let modulus = 1usize << (usize::BITS - length.leading_zeros());
        let mid = a + (length / 4) * 2;
        for idx in mid - 1..=mid + 1 {
            random ^= random << 13;
            random ^= random >> 7;
            random ^= random << 17;
            let mut other = (random as usize) & (modulus - 1);
            if other >= length {
                other -= length;
            }
            data.swap(idx, a + other);
        }
    }
}

fn choose_pivot<T>(
    data: &[T],
    a: usize,
    b: usize,
    less: &impl Fn(&T, &T) -> bool,
) -> (usize, Hint) {
    const SHORTEST_NINTHER: usize = 50;
    const MAX_SWAPS: usize = 4 * 3;
    let l = b - a;
    let mut swaps = 0;
    let mut i = a + l / 4;
    let mut j = a + l / 4 * 2;
    let mut k = a + l / 4 * 3;
    if l >= 8 {
        if l >= SHORTEST_NINTHER {
            i = median(data, i - 1, i, i + 1, &mut swaps, less);
            j = median(data, j - 1, j, j + 1, &mut swaps, less);
            k = median(data, k - 1, k, k + 1, &mut swaps, less);
        }
        j = median(data, i, j, k, &mut swaps, less);
    }
    match swaps {
        0 => (j, Hint::Increasing),
        MAX_SWAPS => (j, Hint::Decreasing),
        _ => (j, Hint::Unknown),
    }
}

fn order2<T>(
    data: &[T],
    a: usize,
    b: usize,
    swaps: &mut usize,
    less: &impl Fn(&T, &T) -> bool,
) -> (usize, usize) {
    if less(&data[b], &data[a]) {
        *swaps += 1;
        return (b, a);
    }
    (a, b)
}

fn median<T>(
    data: &[T],
    a: usize,
    b: usize,
    c: usize,
    swaps: &mut usize,
    less: &impl Fn(&T, &T) -> bool,
) -> usize {
    let (a, b) = order2(data, a, b, swaps, less);
    let (b, c) = order2(data, b, c, swaps, less);
    let _ = c;
    let (_a, b) = order2(data, a, b, swaps, less);
    b
}

/// Go's `container/heap` over a `Vec`, with `less` as the heap's `Less`.
pub(crate) mod heap {
    /// `heap.Init`.
    pub(crate) fn init<T>(h: &mut [T], less: impl Fn(&T, &T) -> bool) {
        let n = h.len();
        for i in (0..n / 2).rev() {
            down(h, i, n, &less);
        }
    }

    /// `heap.Push`.
    pub(crate) fn push<T>(h: &mut Vec<T>, x: T, less: impl Fn(&T, &T) -> bool) {
        h.push(x);
        let last = h.len() - 1;
        up(h, last, &less);
    }

    /// `heap.Pop`.
    pub(crate) fn pop<T>(h: &mut Vec<T>, less: impl Fn(&T, &T) -> bool) -> Option<T> {
        let n = h.len().checked_sub(1)?;
        h.swap(0, n);
        down(h, 0, n, &less);
        h.pop()
    }

    /// `heap.Remove`.
    pub(crate) fn remove<T>(h: &mut Vec<T>, i: usize, less: impl Fn(&T, &T) -> bool) -> T {
        let n = h.len() - 1;
        if n != i {
            h.swap(i, n);
            if !down(h, i, n, &less) {
                up(h, i, &less);
            }
        }
        h.pop().expect("heap is not empty")
    }

    fn up<T>(h: &mut [T], mut j: usize, less: &impl Fn(&T, &T) -> bool) {
        while j > 0 {
            let i = (j - 1) / 2;
            if !less(&h[j], &h[i]) {
                break;
            }
            h.swap(i, j);
            j = i;
        }
    }

    fn down<T>(h: &mut [T], i0: usize, n: usize, less: &impl Fn(&T, &T) -> bool) -> bool {
        let mut i = i0;
        loop {
            let j1 = 2 * i + 1;
            if j1 >= n {
                break;
            }
            let mut j = j1;
            let j2 = j1 + 1;
            if j2 < n && less(&h[j2], &h[j1]) {
                j = j2;
            }
            if !less(&h[j], &h[i]) {
                break;
            }
            h.swap(i, j);
            i = j;
        }
        i > i0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny deterministic generator for test data.
    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *seed >> 33
    }

    #[test]
    fn sorts_like_a_sort() {
        let mut seed = 7;
        for n in [0, 1, 2, 5, 12, 13, 49, 50, 51, 100, 1000, 5000] {
            for modulus in [3, 1000, u64::MAX] {
                let mut v: Vec<u64> = (0..n).map(|_| lcg(&mut seed) % modulus).collect();
                let mut want = v.clone();
                want.sort();
                sort_func(&mut v, |a, b| a < b);
                assert_eq!(v, want, "n={n} modulus={modulus}");
            }
            let mut v: Vec<u64> = (0..n).rev().collect();
            sort_func(&mut v, |a, b| a < b);
            assert!(v.is_sorted());
            let mut v: Vec<u64> = (0..n).collect();
            if n > 1 {
                v.swap(n as usize / 3, n as usize / 2);
            }
            sort_func(&mut v, |a, b| a < b);
            assert!(v.is_sorted());
        }
    }

    fn hash(v: &[(u64, u64)]) -> u64 {
        v.iter().fold(0, |h, p| (h * 31 + p.1) % 1_000_000_007)
    }

    #[test]
    fn same_permutation_of_ties_as_go() {
        // Hashes of the order Go 1.27.3's slices.SortFunc leaves (key, index) pairs in when
        // comparing keys only (a throwaway Go program printed them).
        for (n, want) in [(30, 326468084), (100, 568237662), (1000, 447572452)] {
            let mut v: Vec<(u64, u64)> = (0..n).map(|i| (i * 7 % 5, i)).collect();
            sort_func(&mut v, |a, b| a.0 < b.0);
            assert_eq!(hash(&v), want, "n={n}");
        }
        for (m, want) in [(2, 413782611), (4, 58297490), (1000, 136466114)] {
            let mut s: u64 = 7;
            let mut v: Vec<(u64, u64)> = (0..3000)
                .map(|i| {
                    s = s
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((s >> 33) % m, i)
                })
                .collect();
            sort_func(&mut v, |a, b| a.0 < b.0);
            assert_eq!(hash(&v), want, "m={m}");
        }
        let mut v: Vec<(u64, u64)> = (0..500).map(|i| ((500 - i) / 3, i)).collect();
        sort_func(&mut v, |a, b| a.0 < b.0);
        assert_eq!(hash(&v), 671569865);
    }

    #[test]
    fn heap_pops_in_order() {
        let mut seed = 3;
        let mut h: Vec<u64> = (0..200).map(|_| lcg(&mut seed) % 50).collect();
        heap::init(&mut h, |a, b| a < b);
        heap::push(&mut h, 7, |a, b| a < b);
        let removed = heap::remove(&mut h, 17, |a, b| a < b);
        let mut out = Vec::new();
        while let Some(x) = heap::pop(&mut h, |a, b| a < b) {
            out.push(x);
        }
        assert_eq!(out.len(), 200);
        assert!(out.is_sorted());
        assert!(removed < 50);
    }
}
