import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '../clients/dynamodb.ts';
import { s3 } from '../clients/s3.ts';
import { photoBucket } from '../config.ts';
import { isConditionFailure, keys, table } from './table.ts';

/** The S3 SDK, loaded on first use (see clients/s3.ts). */
const presigning = () =>
  Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/s3-request-presigner')]);

/** At most this many proof photos per task. */
export const MAX_PHOTOS = 5;

export const photos = {
  /** A URL the volunteer's app PUTs one image to, valid for `seconds`. */
  async uploadUrl(key: string, contentType: string, seconds: number): Promise<string> {
    const [{ PutObjectCommand }, { getSignedUrl }] = await presigning();
    return getSignedUrl(
      await s3(),
      new PutObjectCommand({ Bucket: photoBucket(), Key: key, ContentType: contentType }),
      { expiresIn: seconds },
    );
  },

  /** A URL to look at a photo, for the request's partner and ops. */
  async viewUrl(key: string, seconds: number): Promise<string> {
    const [{ GetObjectCommand }, { getSignedUrl }] = await presigning();
    return getSignedUrl(await s3(), new GetObjectCommand({ Bucket: photoBucket(), Key: key }), {
      expiresIn: seconds,
    });
  },

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
