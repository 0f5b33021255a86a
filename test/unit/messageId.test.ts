import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_FROM, messageIdFor } from '../../src/services/mailer';

describe('Message-ID of a notice', () => {
  it('is the same for the same outbox message and different for another, in the sender’s domain', () => {
    const a = messageIdFor('outbox:12:dossier:7:v2:3', DEFAULT_FROM);
    assert.equal(a, messageIdFor('outbox:12:dossier:7:v2:3', DEFAULT_FROM));
    assert.notEqual(a, messageIdFor('outbox:13:dossier:7:v3:3', DEFAULT_FROM));
    assert.match(a, /^<[0-9a-f]{32}@dichvucong\.example\.vn>$/);
    assert.match(messageIdFor('x', 'no-reply@tinh.gov.vn'), /@tinh\.gov\.vn>$/);
    assert.match(messageIdFor('x', 'Cổng <bad'), /@localhost>$/);
  });
});
