//! `Link` header parsing. Okta sends one `Link` header per relation (one for
//! `self`, a separate one for `next`), but RFC 8288 also allows several links
//! in one header separated by commas, so both forms are read.

use reqwest::header::{HeaderMap, LINK};

/// Returns the target of the first `rel="next"` link across all `Link`
/// headers, or `None` on the last page.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(split_links)
        .find_map(|link| {
            let (target, params) = parse_link(link)?;
            params
                .split(';')
                .filter_map(|param| param.split_once('='))
                .any(|(name, value)| {
                    name.trim().eq_ignore_ascii_case("rel")
                        && value
                            .trim()
                            .trim_matches('"')
                            .split_ascii_whitespace()
                            .any(|rel| rel.eq_ignore_ascii_case("next"))
                })
                .then(|| target.to_owned())
        })
}

/// Splits a header value into links on commas that sit outside `<…>`.
fn split_links(value: &str) -> Vec<&str> {
    let mut links = Vec::new();
    let mut start = 0;
    let mut in_target = false;
    for (index, ch) in value.char_indices() {
        match ch {
            '<' => in_target = true,
            '>' => in_target = false,
            ',' if !in_target => {
                links.push(&value[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    links.push(&value[start..]);
    links
}

fn parse_link(link: &str) -> Option<(&str, &str)> {
    let link = link.trim();
    let rest = link.strip_prefix('<')?;
    let (target, params) = rest.split_once('>')?;
    Some((target, params))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(LINK, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn next_in_separate_header() {
        let map = headers(&[
            r#"<https://acme.okta.com/api/v1/users?limit=200>; rel="self""#,
            r#"<https://acme.okta.com/api/v1/users?after=abc&limit=200>; rel="next""#,
        ]);
        assert_eq!(
            next_link(&map).as_deref(),
            Some("https://acme.okta.com/api/v1/users?after=abc&limit=200")
        );
    }

    #[test]
    fn next_in_comma_separated_header() {
        let map = headers(&[
            r#"<https://a.okta.com/x?a=1,2>; rel="self", <https://a.okta.com/x?after=z>; rel="next""#,
        ]);
        assert_eq!(
            next_link(&map).as_deref(),
            Some("https://a.okta.com/x?after=z")
        );
    }

    #[test]
    fn no_next_on_last_page() {
        let map = headers(&[r#"<https://acme.okta.com/api/v1/users>; rel="self""#]);
        assert_eq!(next_link(&map), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
    }
}
