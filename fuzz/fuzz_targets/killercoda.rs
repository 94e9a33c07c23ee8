//! The Killercoda importer: the input is a scenario's index.json, then the texts it may name
//! (intro.md, step1/text.md, step1/verify.sh, background.sh), cut at NUL bytes.
#![no_main]

mod tree;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [index, intro, text, verify, background]: [&[u8]; 5] = tree::parts(data, 5).try_into().unwrap();
    let tree = tree::Tree::new(&[
        ("s1/labs/lab/index.json", index),
        ("s1/labs/lab/intro.md", intro),
        ("s1/labs/lab/step1/text.md", text),
        ("s1/labs/lab/step1/verify.sh", verify),
        ("s1/labs/lab/background.sh", background),
    ]);
    tree.load_and_check();
});
