/**
 * Role marker for Prompt Guard models trained with one (config.json `text_template`, key
 * `third_party`, e.g. "Document: {text}"). Third-party text (tool results, documents, tool
 * schemas and calls) gets the marker in every segment and fine window, as in training; every
 * other source is scored bare. Without the marker a bare instruction inside a document reads
 * exactly like an ordinary user prompt, which the model must let through. Meta's Prompt Guard
 * has no template: all text stays bare.
 */
import type { EncoderClassifier } from '../encoder/encoderClassifier';
import type { SegmentLayout } from '../text/segments';
import { isThirdPartySource, type TextSource } from '../types';

export const THIRD_PARTY_TEMPLATE_KEY = 'third_party';

export interface RoleLayouts {
  bare: SegmentLayout;
  /** Absent when the model has no third-party template. */
  thirdParty?: SegmentLayout;
}

export function roleLayouts(classifier: EncoderClassifier): RoleLayouts {
  const template = classifier.directory.config.textTemplate?.[THIRD_PARTY_TEMPLATE_KEY];
  return { bare: classifier.layout(), ...(template ? { thirdParty: classifier.templateLayout(template) } : {}) };
}

export function layoutFor(layouts: RoleLayouts, source: TextSource): { layout: SegmentLayout; marked: boolean } {
  if (layouts.thirdParty && isThirdPartySource(source)) return { layout: layouts.thirdParty, marked: true };
  return { layout: layouts.bare, marked: false };
}
