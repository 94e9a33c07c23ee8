//! The workbook format: the input is a lab's intro, a step, a deck and a quiz file (cut at NUL
//! bytes), loaded as a whole course.
#![no_main]

mod tree;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [lab, step, deck, quiz]: [&[u8]; 4] = tree::parts(data, 4).try_into().unwrap();
    let tree = tree::Tree::new(&[
        ("s1/labs/lab/lab.md", lab),
        ("s1/labs/lab/01-step.md", step),
        ("s1/fuzz.deck.md", deck),
        ("s1/fuzz.quiz.md", quiz),
    ]);
    tree.load_and_check();
});
