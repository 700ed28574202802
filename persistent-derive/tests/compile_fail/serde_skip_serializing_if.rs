use persistent::prelude::*;
use serde::Serialize;

#[derive(Persistent, Serialize)]
pub struct Customer {
    #[serde(skip_serializing_if = "Option::is_none")]
    nickname: Option<String>,
    #[serde(rename = "full_name")]
    name: String,
}

fn main() {}
