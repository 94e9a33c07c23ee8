//! Who someone is, as the school's identity provider says: OpenID Connect sign-in (`oidc`) and
//! what the provider's claims make of a person (`claims`: their name, whether they are staff),
//! and staff accounts' passwords (`password`).

pub mod claims;
pub mod oidc;
pub mod password;
pub mod refetch;
