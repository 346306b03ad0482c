import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { documents } from '../clients/dynamodb.ts';
import { s3 } from '../clients/s3.ts';
import { photoBucket } from '../config.ts';
import { isConditionFailure, keys, table } from './table.ts';

/** At most this many proof photos per task. */
export const MAX_PHOTOS = 5;

export const photos = {
  /** A URL the volunteer's app PUTs one image to, valid for `seconds`. */
  uploadUrl: (key: string, contentType: string, seconds: number) =>
    getSignedUrl(
      s3,
      new PutObjectCommand({ Bucket: photoBucket(), Key: key, ContentType: contentType }),
      { expiresIn: seconds },
    ),

  /** A URL to look at a photo, for the request's partner and ops. */
  viewUrl: (key: string, seconds: number) =>
    getSignedUrl(s3, new GetObjectCommand({ Bucket: photoBucket(), Key: key }), {
      expiresIn: seconds,
    }),

  /** Notes a photo key on the task; false when the task is gone or has MAX_PHOTOS. */
  async attach(requestId: string, volunteerId: string, key: string): Promise<boolean> {
    try {
      await documents.send(
        new UpdateCommand({
          TableName: table(),
          Key: keys.task(requestId, volunteerId),
          UpdateExpression: 'SET photoKeys = list_append(if_not_exists(photoKeys, :none), :key)',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(photoKeys) OR size(photoKeys) < :max)',
          ExpressionAttributeValues: { ':none': [], ':key': [key], ':max': MAX_PHOTOS },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  },
};
