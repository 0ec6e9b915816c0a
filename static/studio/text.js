// The words the scripts show, in the page's language: base.html's #studio-i18n, made by browser_text.py.
// The English given beside each key is used when the page has none. Imported by the scripts that speak.

let messages = null;

export function studioText(key, english, values = {}) {
  if (messages === null) {
    try {
      messages = JSON.parse(document.getElementById("studio-i18n")?.textContent || "null");
    } catch (e) {
      messages = null;
    }
  }
  const text = (messages && messages[key]) || english;
  return text.replace(/%\((\w+)\)s|%%/g, (match, name) =>
    name === undefined ? "%" : name in values ? String(values[name]) : match,
  );
}

// Two sentences in a row, as the language writes them.
export const bothSentences = (first, second) =>
  first && second ? studioText("twoSentences", "%(first)s %(second)s", { first, second }) : first || second;
