//! Graph walks the loader and the snapshot compiler share, each iterative and linear in
//! the graph's size: depths in a forest given by parent links (privileges, org units),
//! and the cycles of a directed graph (role inclusion, org unit kinds' parents).

/// What following parent links finds for every node of a forest.
pub(crate) struct Depths {
    /// The node's depth (a node without a parent is at depth 1), or `None` when
    /// following its parents never ends.
    pub depth: Vec<Option<usize>>,
    /// Whether the node lies on a cycle of parent links.
    pub on_cycle: Vec<bool>,
}

/// Depths of `n` nodes with at most one parent each (`parent(i)`; out of range = none):
/// every node is visited once, so the walk is linear however deep the forest.
pub(crate) fn depths(n: usize, parent: impl Fn(usize) -> Option<usize>) -> Depths {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; n];
    let mut depth: Vec<Option<usize>> = vec![None; n];
    let mut on_cycle = vec![false; n];
    let mut path: Vec<usize> = Vec::new();
    for start in 0..n {
        if state.get(start).copied() != Some(NEW) {
            continue;
        }
        path.clear();
        let mut cur = start;
        // The depth of the node the path ends on (0: above a root).
        let base: Option<usize> = loop {
            match state.get(cur).copied() {
                Some(NEW) => {
                    if let Some(s) = state.get_mut(cur) {
                        *s = ON_PATH;
                    }
                    path.push(cur);
                    match parent(cur).filter(|&q| q < n) {
                        Some(q) => cur = q,
                        None => break Some(0),
                    }
                }
                Some(ON_PATH) => {
                    // The path came back to itself: from `cur` on, it is a cycle.
                    let from = path.iter().position(|&x| x == cur).unwrap_or(0);
                    for &x in path.iter().skip(from) {
                        if let Some(c) = on_cycle.get_mut(x) {
                            *c = true;
                        }
                    }
                    break None;
                }
                _ => break depth.get(cur).copied().flatten(),
            }
        };
        let mut d = base;
        for &x in path.iter().rev() {
            d = d.map(|d| d + 1);
            if let Some(slot) = depth.get_mut(x) {
                *slot = d;
            }
            if let Some(s) = state.get_mut(x) {
                *s = DONE;
            }
        }
    }
    Depths { depth, on_cycle }
}

/// The strongly connected component of each node of a directed graph (`adj[i]`: the
/// nodes `i` points to; out of range ones are ignored), by Tarjan's algorithm with an
/// explicit stack.
pub(crate) fn components(adj: &[Vec<usize>]) -> Vec<usize> {
    const NONE: usize = usize::MAX;
    let n = adj.len();
    let mut index = vec![NONE; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut comp = vec![NONE; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut next = 0usize;
    let mut ncomp = 0usize;
    // (node, next edge to follow)
    let mut calls: Vec<(usize, usize)> = Vec::new();
    let mut enter = |v: usize,
                     index: &mut Vec<usize>,
                     low: &mut Vec<usize>,
                     stack: &mut Vec<usize>,
                     on_stack: &mut Vec<bool>| {
        if let Some(x) = index.get_mut(v) {
            *x = next;
        }
        if let Some(x) = low.get_mut(v) {
            *x = next;
        }
        next += 1;
        stack.push(v);
        if let Some(x) = on_stack.get_mut(v) {
            *x = true;
        }
    };
    for s in 0..n {
        if index.get(s).copied() != Some(NONE) {
            continue;
        }
        enter(s, &mut index, &mut low, &mut stack, &mut on_stack);
        calls.push((s, 0));
        while let Some(&(v, e)) = calls.last() {
            let edges = adj.get(v).map_or(&[][..], Vec::as_slice);
            if let Some(&w) = edges.get(e) {
                if let Some(top) = calls.last_mut() {
                    top.1 += 1;
                }
                if w >= n {
                    continue;
                }
                if index.get(w).copied() == Some(NONE) {
                    enter(w, &mut index, &mut low, &mut stack, &mut on_stack);
                    calls.push((w, 0));
                } else if on_stack.get(w).copied().unwrap_or(false) {
                    let iw = index.get(w).copied().unwrap_or(NONE);
                    if let Some(lv) = low.get_mut(v) {
                        *lv = (*lv).min(iw);
                    }
                }
                continue;
            }
            calls.pop();
            let lv = low.get(v).copied().unwrap_or(0);
            if let Some(&(u, _)) = calls.last()
                && let Some(lu) = low.get_mut(u)
            {
                *lu = (*lu).min(lv);
            }
            if Some(lv) == index.get(v).copied() {
                while let Some(w) = stack.pop() {
                    if let Some(x) = on_stack.get_mut(w) {
                        *x = false;
                    }
                    if let Some(x) = comp.get_mut(w) {
                        *x = ncomp;
                    }
                    if w == v {
                        break;
                    }
                }
                ncomp += 1;
            }
        }
    }
    comp
}

/// Which nodes lie on a cycle: in a component of more than one node, or pointing to
/// themselves.
pub(crate) fn on_cycles(adj: &[Vec<usize>], comp: &[usize]) -> Vec<bool> {
    let mut size = vec![0usize; adj.len()];
    for &c in comp {
        if let Some(s) = size.get_mut(c) {
            *s += 1;
        }
    }
    adj.iter()
        .enumerate()
        .map(|(i, out)| {
            let c = comp.get(i).copied().unwrap_or(usize::MAX);
            size.get(c).copied().unwrap_or(0) > 1 || out.contains(&i)
        })
        .collect()
}

/// A shortest cycle through `start` inside its component: `[start, …, start]`, or empty
/// when there is none. Linear in the graph's size.
pub(crate) fn cycle_through(adj: &[Vec<usize>], comp: &[usize], start: usize) -> Vec<usize> {
    let Some(&c) = comp.get(start) else {
        return Vec::new();
    };
    let mut came_from: Vec<Option<usize>> = vec![None; adj.len()];
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in adj.get(v).into_iter().flatten() {
            if comp.get(w) != Some(&c) {
                continue;
            }
            if w == start {
                // start … v, then back to start.
                let mut path = vec![v];
                let mut cur = v;
                while cur != start {
                    let Some(prev) = came_from.get(cur).copied().flatten() else {
                        break;
                    };
                    path.push(prev);
                    cur = prev;
                }
                path.reverse();
                path.push(start);
                return path;
            }
            if let Some(slot) = came_from.get_mut(w)
                && slot.is_none()
            {
                *slot = Some(v);
                queue.push_back(w);
            }
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depths_and_cycles_of_parent_links() {
        // 0 <- 1 <- 2; 3 <-> 4; 5 -> 4 (into a cycle); 6 -> 6.
        let parents = [None, Some(0), Some(1), Some(4), Some(3), Some(4), Some(6)];
        let d = depths(parents.len(), |i| parents.get(i).copied().flatten());
        assert_eq!(
            d.depth,
            vec![Some(1), Some(2), Some(3), None, None, None, None]
        );
        assert_eq!(
            d.on_cycle,
            vec![false, false, false, true, true, false, true]
        );
    }

    #[test]
    fn a_long_chain_is_walked_without_recursion() {
        let n = 200_000;
        let d = depths(n, |i| i.checked_sub(1));
        assert_eq!(d.depth.last().copied().flatten(), Some(n));
        let adj: Vec<Vec<usize>> = (0..n).map(|i| vec![(i + 1) % n]).collect();
        let comp = components(&adj);
        assert!(on_cycles(&adj, &comp).iter().all(|&c| c));
        assert_eq!(cycle_through(&adj, &comp, 0).len(), n + 1);
    }

    #[test]
    fn components_and_cycles() {
        // 0 -> 1 -> 2 -> 0; 2 -> 3; 3 -> 3; 4 -> 0.
        let adj = vec![vec![1], vec![2], vec![0, 3], vec![3], vec![0]];
        let comp = components(&adj);
        assert_eq!(comp[0], comp[1]);
        assert_eq!(comp[1], comp[2]);
        assert_ne!(comp[2], comp[3]);
        assert_ne!(comp[4], comp[0]);
        assert_eq!(on_cycles(&adj, &comp), vec![true, true, true, true, false]);
        assert_eq!(cycle_through(&adj, &comp, 1), vec![1, 2, 0, 1]);
        assert_eq!(cycle_through(&adj, &comp, 3), vec![3, 3]);
        assert!(cycle_through(&adj, &comp, 4).is_empty());
    }
}
