// A received message that must end the session: carries the NOTIFICATION the
// RFCs ask for, so the session sends exactly that and logs the reason.

import { NetletError } from '../../base/errors.ts';
import { describeError } from './constants.ts';

export interface NotificationFields {
  code: number;
  subcode: number;
  /** The data field (RFC 4271 6.x says what goes there for each error). */
  data: Buffer;
}

export class BgpNotificationError extends NetletError {
  readonly subcode: number;
  readonly data: Buffer;
  readonly bgpCode: number;

  constructor(code: number, subcode: number, reason: string, data: Buffer = Buffer.alloc(0)) {
    super('ERR_BGP_NOTIFICATION', `${describeError(code, subcode)}: ${reason}`);
    this.bgpCode = code;
    this.subcode = subcode;
    this.data = data;
  }

  get fields(): NotificationFields {
    return { code: this.bgpCode, subcode: this.subcode, data: this.data };
  }
}
