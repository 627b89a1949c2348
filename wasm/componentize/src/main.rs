//! `uncork-componentize`: the build step that turns the planner's core module
//! (`wasm32-unknown-unknown`) into a component, as `wasm-tools component new` does, and checks
//! what the component imports.
//!
//! ```text
//! uncork-componentize new MODULE.wasm -o COMPONENT.wasm [--only-imports PREFIX] [--wit OUT.wit]
//! uncork-componentize imports COMPONENT.wasm
//! ```
//!
//! Before encoding, `new` deletes the module's `__wbindgen*` / `__externref*` exports and the
//! code only they reach, and its debug sections. They come from `wasm-bindgen`, which the `zip`
//! crate's `getrandom` (feature `wasm_js`, forced on wasm32) links into every
//! `wasm32-unknown-unknown` cdylib: its `#[no_mangle]` exports keep its JavaScript-only imports
//! alive although the planner never calls it (zip reads never ask for random bytes).
//!
//! `new` fails when the component imports anything whose name does not start with `PREFIX`
//! (`uncork:extract/`), so a dependency that drags in WASI or wasm-bindgen imports breaks the
//! build instead of the embedders. `imports` prints one import name per line.

use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::process::ExitCode;
use wit_component::{ComponentEncoder, DecodedWasm, WitPrinter};

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> anyhow::Error {
    anyhow::anyhow!(
        "usage: uncork-componentize new MODULE.wasm -o COMPONENT.wasm [--only-imports PREFIX] [--wit OUT.wit]\n       uncork-componentize imports COMPONENT.wasm"
    )
}

fn run(args: Vec<String>) -> Result<()> {
    let mut args = args.into_iter();
    match args.next().as_deref() {
        Some("new") => {
            let mut input = None;
            let mut output = None;
            let mut prefix = None;
            let mut wit = None;
            while let Some(arg) = args.next() {
                match arg.as_str() {
                    "-o" => output = Some(PathBuf::from(args.next().ok_or_else(usage)?)),
                    "--only-imports" => prefix = Some(args.next().ok_or_else(usage)?),
                    "--wit" => wit = Some(PathBuf::from(args.next().ok_or_else(usage)?)),
                    _ if input.is_none() => input = Some(PathBuf::from(arg)),
                    _ => return Err(usage()),
                }
            }
            let (input, output) = input.zip(output).ok_or_else(usage)?;
            let module =
                std::fs::read(&input).with_context(|| format!("reading {}", input.display()))?;
            let module = without_wasm_bindgen(&module)?;
            let component = ComponentEncoder::default()
                .module(&module)
                .context("the module carries no usable component-type section")?
                .validate(true)
                .encode()
                .context("encoding the component")?;
            let imports = imports(&component)?;
            if let Some(prefix) = prefix {
                let foreign: Vec<_> = imports.iter().filter(|i| !i.starts_with(&prefix)).collect();
                if !foreign.is_empty() {
                    bail!(
                        "the component imports {foreign:?}: only {prefix}* is allowed (a dependency pulled in WASI or wasm-bindgen?)"
                    );
                }
            }
            if let Some(wit) = wit {
                std::fs::write(&wit, world_wit(&component)?)
                    .with_context(|| format!("writing {}", wit.display()))?;
            }
            std::fs::write(&output, &component)
                .with_context(|| format!("writing {}", output.display()))?;
            println!(
                "{}: {} bytes, imports: {}",
                output.display(),
                component.len(),
                imports.join(", ")
            );
            Ok(())
        }
        Some("imports") => {
            let path = PathBuf::from(args.next().ok_or_else(usage)?);
            let component =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            for import in imports(&component)? {
                println!("{import}");
            }
            Ok(())
        }
        _ => Err(usage()),
    }
}

/// The module without wasm-bindgen's exports, what only they reach, and debug sections.
fn without_wasm_bindgen(module: &[u8]) -> Result<Vec<u8>> {
    let mut module = walrus::ModuleConfig::new()
        .generate_producers_section(false)
        .parse(module)
        .context("parsing the core module")?;
    let dropped: Vec<_> = module
        .exports
        .iter()
        .filter(|e| e.name.starts_with("__wbindgen") || e.name.starts_with("__externref"))
        .map(|e| e.id())
        .collect();
    for id in dropped {
        module.exports.delete(id);
    }
    let debug: Vec<_> = module
        .customs
        .iter()
        .filter(|(_, c)| c.name().starts_with(".debug"))
        .map(|(id, _)| id)
        .collect();
    for id in debug {
        module.customs.delete(id);
    }
    walrus::passes::gc::run(&mut module);
    Ok(module.emit_wasm())
}

/// The names of a component's imports (`uncork:extract/source@0.1.0`, ...): interfaces and
/// functions; the types a world `use`s come with their interface, which is listed.
fn imports(component: &[u8]) -> Result<Vec<String>> {
    let DecodedWasm::Component(resolve, world) =
        wit_component::decode(component).context("decoding the component")?
    else {
        bail!("not a component");
    };
    Ok(resolve.worlds[world]
        .imports
        .iter()
        .filter(|(_, item)| !matches!(item, wit_parser::WorldItem::Type { .. }))
        .map(|(key, _)| resolve.name_world_key(key))
        .collect())
}

/// The component's world as WIT text (what `wasm-tools component wit` prints).
fn world_wit(component: &[u8]) -> Result<String> {
    let decoded = wit_component::decode(component).context("decoding the component")?;
    let resolve = decoded.resolve();
    let mut printer = WitPrinter::default();
    printer.print(resolve, decoded.package(), &[])?;
    Ok(printer.output.to_string())
}
