// Writing through a getter's result would change a copy and store nothing: it must not
// compile. Setters (or `write()`) are the way to change a field.
use persistent::prelude::*;

#[derive(Persistent, Default)]
pub struct Note {
    title: String,
    revisions: Vec<u32>,
}

fn main() {
    let note = P::new(Note::default());
    note.revisions().unwrap().push(1);
    *note.title().unwrap() = String::from("lost");
}
