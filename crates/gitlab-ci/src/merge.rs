//! GitLab's deep merge: maps merge key by key, every other value is replaced by the overriding one.
//! Used for includes (the including file over its includes) and for `extends` (the job over its bases).

use crate::yaml::{Map, Value};

/// Merge `over` into `base`, in place.
pub fn deep_merge(base: &mut Map, over: Map) {
    for (key, value) in over.entries {
        match (base.get_mut(&key.name), value.value) {
            (Some(existing), Value::Map(over_map)) if matches!(existing.value, Value::Map(_)) => {
                if let Value::Map(base_map) = &mut existing.value {
                    deep_merge(base_map, over_map);
                }
            }
            (_, v) => {
                let node = crate::yaml::Node { span: value.span, tag: value.tag, value: v };
                base.insert(key, node);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{SourceFile, SourceMap};
    use std::sync::Arc;

    fn map(src: &str) -> Map {
        let sm = SourceMap::new();
        let id = sm.add(SourceFile::new("t.yml".into(), None, None, Arc::from(src)));
        let doc = crate::yaml::parse(&sm, id).unwrap().docs.remove(0);
        match doc.value {
            Value::Map(m) => m,
            _ => panic!("not a map"),
        }
    }

    #[test]
    fn maps_merge_and_lists_replace() {
        let mut base = map("a: {x: 1, y: [1, 2]}\nb: 1\n");
        deep_merge(&mut base, map("a: {y: [3], z: 2}\nc: 3\n"));
        let a = base.get("a").unwrap().as_map().unwrap();
        assert_eq!(a.keys().collect::<Vec<_>>(), ["x", "y", "z"]);
        assert_eq!(a.get("y").unwrap().as_seq().unwrap().len(), 1);
        assert_eq!(base.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
    }

    #[test]
    fn a_scalar_replaces_a_map() {
        let mut base = map("a: {x: 1}\n");
        deep_merge(&mut base, map("a: plain\n"));
        assert_eq!(base.get("a").unwrap().as_str(), Some("plain"));
    }
}
