//! The link object every OGC document carries (`href`, `rel`, `type`, `title`), shared by
//! the descriptive documents and the item pages.

use serde::Serialize;

/// One entry of a document's `links`. Links are written in the order a document lists
/// them: clients (and OGC's own test suites) read them as given.
#[derive(Debug, Serialize)]
pub(crate) struct Link {
    href: String,
    rel: &'static str,
    #[serde(rename = "type")]
    media_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'static str>,
}

impl Link {
    /// A link without a title.
    pub(crate) fn new(href: String, rel: &'static str, media_type: &'static str) -> Link {
        Link {
            href,
            rel,
            media_type,
            title: None,
        }
    }

    /// A link with a title.
    pub(super) fn titled(
        href: String,
        rel: &'static str,
        media_type: &'static str,
        title: &'static str,
    ) -> Link {
        Link {
            title: Some(title),
            ..Link::new(href, rel, media_type)
        }
    }
}
