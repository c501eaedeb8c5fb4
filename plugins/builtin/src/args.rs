//! Argument checks shared by several built-ins.

use kairos_model::{ArgsError, BuildContext};

/// Resolves a `resources` list to dimension indices, in the order given.
///
/// An empty list is an error (leave `resources` out to mean "all" or "the ones
/// requested"), and so is a name listed twice: either would silently change what
/// the plugin measures.
pub(crate) fn resources(names: &[String], bx: &mut BuildContext<'_>) -> Result<Box<[usize]>, ArgsError> {
    if names.is_empty() {
        return Err(ArgsError("`resources` lists no resource; leave it out to use the default".into()));
    }
    let mut dims = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(ArgsError(format!("`resources` lists `{name}` twice")));
        }
        dims.push(bx.resource(name)?);
    }
    Ok(dims.into_boxed_slice())
}

#[cfg(test)]
mod tests {
    use kairos_model::{ResourceSpace, Symbols};

    use super::*;

    /// (case, names, indices or error)
    type Case = (&'static str, &'static [&'static str], Result<&'static [usize], &'static str>);

    #[test]
    fn resource_lists_resolve_in_order_and_reject_mistakes() {
        let space = ResourceSpace::new(["cpu", "memory", "antenna"]);
        let cases: [Case; 4] = [
            ("names resolve to their positions, in the order given", &["antenna", "cpu"], Ok(&[2, 0])),
            (
                "an unknown name lists the declared ones",
                &["gpu"],
                Err("unknown resource `gpu`; the cluster declares: cpu, memory, antenna"),
            ),
            ("a name listed twice is an error", &["cpu", "cpu"], Err("`resources` lists `cpu` twice")),
            ("an empty list is an error", &[], Err("`resources` lists no resource; leave it out to use the default")),
        ];
        for (name, names, want) in cases {
            let mut symbols = Symbols::default();
            let mut bx = BuildContext::new(&space, &mut symbols);
            let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
            let got = resources(&names, &mut bx);
            match want {
                Ok(dims) => assert_eq!(got.as_deref(), Ok(dims), "{name}"),
                Err(msg) => assert_eq!(got.unwrap_err().0, msg, "{name}"),
            }
        }
    }
}
