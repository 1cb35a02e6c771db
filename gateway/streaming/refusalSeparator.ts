/**
 * What goes between the text a stream already released and the refusal that ends it when the
 * output guard blocks mid-stream: a window can end mid-sentence, and the refusal glued to it read
 * as one voice ("...verifies itsI'm sorry, but ..."). A blank line, as a new paragraph.
 */
export const REFUSAL_SEPARATOR = '\n\n';
