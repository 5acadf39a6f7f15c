//! Half-open millisecond ranges: union and difference, for tracking what a source covered.

/// A set of disjoint, sorted half-open ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeSet(Vec<(i64, i64)>);

impl RangeSet {
    pub fn add(&mut self, start: i64, end: i64) {
        if start >= end {
            return;
        }
        self.0.push((start, end));
        self.0.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(self.0.len());
        for &(s, e) in &self.0 {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.0 = merged;
    }

    pub fn ranges(&self) -> &[(i64, i64)] {
        &self.0
    }

    /// Whether `[start, end)` is inside the set.
    pub fn covers(&self, start: i64, end: i64) -> bool {
        start >= end || self.0.iter().any(|&(s, e)| s <= start && end <= e)
    }

    /// The parts of `[start, end)` not in the set.
    pub fn missing(&self, start: i64, end: i64) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        let mut at = start;
        for &(s, e) in &self.0 {
            if e <= at || s >= end {
                continue;
            }
            if s > at {
                out.push((at, s.min(end)));
            }
            at = at.max(e);
        }
        if at < end {
            out.push((at, end));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_covers_and_missing() {
        let mut r = RangeSet::default();
        r.add(10, 20);
        r.add(30, 40);
        r.add(20, 25);
        assert!(r.covers(10, 25) && !r.covers(10, 26) && r.covers(5, 5));
        assert_eq!(r.missing(0, 50), vec![(0, 10), (25, 30), (40, 50)]);
        assert_eq!(r.missing(12, 22), vec![]);
        r.add(0, 100);
        assert_eq!(r, RangeSet(vec![(0, 100)]));
    }
}
