//! The trees a key-value backend keeps, each named once: [`Tree`], its
//! name on disk, and [`Tree::ALL`] follow from one list.

/// Declares [`Tree`] from one list of `Variant => "name"`, so that the
/// enum, [`Tree::ALL`] and [`Tree::name`] cannot disagree.
macro_rules! trees {
    ($($(#[$doc:meta])* $tree:ident => $name:literal,)+) => {
        /// The trees a key-value backend keeps.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Tree {
            $($(#[$doc])* $tree,)+
        }

        impl Tree {
            /// Every tree, the log first.
            pub const ALL: [Tree; [$($name),+].len()] = [$(Tree::$tree),+];

            /// Its name on disk and in messages.
            pub fn name(self) -> &'static str {
                match self {
                    $(Tree::$tree => $name,)+
                }
            }
        }
    };
}

trees! {
    /// The log: big-endian sequence number -> encoded [`Record`](crate::store::Record).
    Log => "log",
    /// Counters: the last sequence number, the nonce floor.
    Meta => "meta",
    /// Client id -> [`ClientState`](crate::store::ClientState).
    Clients => "clients",
    /// User name -> [`UserRecord`](crate::store::UserRecord).
    Users => "users",
    /// Credential id -> [`CredentialState`](crate::store::CredentialState).
    Credentials => "credentials",
    /// Nonce uses, keyed by timestamp first so old ones prune as a range.
    Nonces => "nonces",
    /// Families whose every credential was revoked: family id -> ().
    Families => "families",
    /// Client id + credential id -> (): what was issued to each client.
    ClientIndex => "client_index",
    /// Parent id + credential id -> (): what was issued from each credential.
    ParentIndex => "parent_index",
    /// User name -> the ids of the clients the user registered, in order.
    OwnerIndex => "owner_index",
    /// User + client id -> [`GrantState`](crate::store::GrantState): what
    /// the user granted the client.
    Grants => "grants",
    /// User name -> the ids of the clients the user granted, in order.
    UserGrants => "user_grants",
    /// Client id -> the sequence number up to which every credential
    /// issued to it was revoked (big-endian).
    ClientWatermarks => "client_watermarks",
    /// User name -> its OpenID Connect subject identifier.
    Subjects => "subjects",
    /// [`SIGNING_KEYS`](super::SIGNING_KEYS) -> every signing key, oldest first.
    SigningKeys => "signing_keys",
    /// Client id -> the JWK Set it registered (JSON).
    ClientKeys => "client_keys",
    /// Code id -> how its user had signed in
    /// ([`Authenticated`](crate::store::Authenticated)).
    Authentications => "authentications",
    /// Device codes and user codes by when they expire: the start of each
    /// [`DEVICE_BUCKET`](super::DEVICE_BUCKET) (big-endian) -> their ids,
    /// and [`DEVICE_BUCKETS`](super::DEVICE_BUCKETS) -> the buckets that
    /// hold any, so that [`sweep_devices`](super::sweep_devices) finds the
    /// expired ones without a walk over every credential.
    DeviceExpiry => "device_expiry",
    /// Credential id -> its [`Constrained`](crate::store::Constrained)
    /// binding (DPoP key, audience).
    Constraints => "constraints",
    /// Client id -> the options it registered (JSON object text).
    ClientOptions => "client_options",
    /// Pushed request id -> its [`Pushed`](crate::store::Pushed) parameters.
    PushedRequests => "pushed_requests",
    /// Algorithm name -> every signing key for it, oldest first.
    AlgSigningKeys => "alg_signing_keys",
}

impl Tree {
    /// The projections: every tree but the log.
    pub const PROJECTIONS: &'static [Tree] = Tree::ALL.split_at(1).1;

    /// Its place in [`Tree::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::Tree;

    #[test]
    fn every_tree_is_listed_once_in_order_with_its_own_name() {
        for (at, tree) in Tree::ALL.into_iter().enumerate() {
            assert_eq!(tree.index(), at);
        }
        let mut names: Vec<_> = Tree::ALL.iter().map(|tree| tree.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Tree::ALL.len());
        assert_eq!(Tree::PROJECTIONS.first(), Some(&Tree::Meta));
    }
}
