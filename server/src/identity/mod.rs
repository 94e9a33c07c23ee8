//! Who someone is, as the school's identity provider says: OpenID Connect sign-in (`oidc`) and
//! what the provider's claims make of a person (`claims`: their name, whether they are staff).

pub mod claims;
pub mod oidc;
